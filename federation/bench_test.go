package federation

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkServeActor compares serving an actor over loopback with a bare
// net/http handler writing the same bytes: the gap is routing, content
// negotiation, the read of the actor's row and the cache look-up.
func BenchmarkServeActor(b *testing.B) {
	f := newFixture(b)
	doc, err := f.srv.ActorJSON(context.Background(), "alice")
	if err != nil {
		b.Fatal(err)
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentTypeAP)
		w.Write(doc)
	})
	for _, bb := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"coopfed", f.router}} {
		b.Run(bb.name, func(b *testing.B) {
			srv := httptest.NewServer(bb.h)
			defer srv.Close()
			client := srv.Client()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/users/alice", nil)
			req.Header.Set("Accept", acceptGoToSocial)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || n != int64(len(doc)) {
					b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
				}
			}
		})
	}
}

// BenchmarkActorJSON is the cost of the document itself once cached: one
// read of the actor's row.
func BenchmarkActorJSON(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	for _, handle := range []string{"alice", "tool"} {
		b.Run(handle, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.srv.ActorJSON(ctx, handle); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRenderActor is the cost the cache saves.
func BenchmarkRenderActor(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	a, err := f.db.ActorByHandle(ctx, "tool")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.srv.render(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
}
