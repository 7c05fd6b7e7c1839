package federation

import (
	"net/http"
	"testing"
)

func TestNodeInfo(t *testing.T) {
	f := newFixture(t)
	t.Run("the well-known document links to 2.1", func(t *testing.T) {
		w := f.get(t, "/.well-known/nodeinfo")
		wantStatus(t, w, http.StatusOK)
		wantHeader(t, w, "Content-Type", "application/json; charset=utf-8")
		checkGolden(t, "nodeinfo-links.golden.json", w.Body.Bytes())
	})
	t.Run("2.1 names the software and counts the co-op", func(t *testing.T) {
		w := f.get(t, "/nodeinfo/2.1", "Accept", "application/json")
		wantStatus(t, w, http.StatusOK)
		wantHeader(t, w, "Content-Type", `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"`)
		checkGolden(t, "nodeinfo.golden.json", w.Body.Bytes())
	})
	t.Run("a node without its co-op still answers", func(t *testing.T) {
		s := NewServer(Config{Site: testSite, Store: openDB(t)})
		w := serve(newRouter(s), http.MethodGet, "/nodeinfo/2.1")
		wantStatus(t, w, http.StatusOK)
		m := decode(t, w.Body.Bytes())
		if m["software"].(map[string]any)["version"] != "unknown" {
			t.Errorf("software = %v", m["software"])
		}
	})
}
