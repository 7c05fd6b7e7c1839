package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation"
	"github.com/coopfed/coopfed/handlers"
)

// benchActor serves one actor document two ways on loopback — through
// coopfed's whole handler stack (router, negotiation, a database read per
// request, the cached document) and through a bare net/http handler that
// writes the same bytes — and compares requests per second.
func benchActor(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("actor", flag.ContinueOnError)
	rf := addRoundFlags(fs)
	conc := fs.Int("concurrency", 16, "concurrent client connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "coopbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	site := coop.Site{Scheme: "http", Host: ln.Addr().String()}
	db, svc, err := benchNode(ctx, filepath.Join(dir, "coopfed.db"), site)
	if err != nil {
		return err
	}
	defer db.Close()
	fed := federation.NewServer(federation.Config{Site: site, Store: db, Version: "bench"})
	h, err := handlers.New(handlers.Deps{Service: svc, Site: site, Version: "bench", Before: []handlers.Routes{fed}})
	if err != nil {
		return err
	}
	doc, err := fed.ActorJSON(ctx, "alice")
	if err != nil {
		return err
	}
	coopURL := site.ActorID("alice")

	// The baseline: the same bytes, with the same content type, from a bare
	// handler on its own loopback listener.
	bareLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/activity+json; charset=utf-8")
		w.Write(doc)
	})
	bareURL := "http://" + bareLn.Addr().String() + "/users/alice"

	for _, s := range []struct {
		ln net.Listener
		h  http.Handler
	}{{ln, h}, {bareLn, bare}} {
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(s.ln)
		defer srv.Close()
	}

	// Check both answer the same bytes before timing anything.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}, Timeout: 10 * time.Second}
	for _, u := range []string{coopURL, bareURL} {
		got, err := fetch(client, u)
		if err != nil {
			return err
		}
		if string(got) != string(doc) {
			return fmt.Errorf("%s answered %d bytes, not the %d-byte document", u, len(got), len(doc))
		}
	}

	fmt.Printf("# actor document over loopback: %d bytes, %d connections, %d rounds of %s\n", len(doc), *conc, rf.rounds, rf.duration)
	fmt.Printf("# machine: %s\n", machine())
	fmt.Println("| round | bare net/http req/s | coopfed req/s | ratio |")
	fmt.Println("| --- | --- | --- | --- |")
	var bareRates, coopRates, ratios []float64
	for i := 1; i <= rf.rounds; i++ {
		b, err := load(client, bareURL, *conc, rf.duration)
		if err != nil {
			return err
		}
		c, err := load(client, coopURL, *conc, rf.duration)
		if err != nil {
			return err
		}
		bareRates, coopRates, ratios = append(bareRates, b), append(coopRates, c), append(ratios, c/b)
		fmt.Printf("| %d | %.0f | %.0f | %.2f |\n", i, b, c, c/b)
	}
	fmt.Printf("| median | %.0f | %.0f | %.2f |\n", median(bareRates), median(coopRates), median(ratios))
	return nil
}

func fetch(c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/activity+json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

// load sends GETs from conc goroutines for d and returns completed
// requests per second. Any failed request fails the measurement.
func load(c *http.Client, url string, conc int, d time.Duration) (float64, error) {
	var (
		n        atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	stop := time.Now().Add(d)
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header.Set("Accept", "application/activity+json")
				resp, err := c.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = errors.New(resp.Status)
					}
				}
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("GET %s: %w", url, err) })
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}
