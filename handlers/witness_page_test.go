package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/note"
)

const bPeer = "https://b.example/users/coop"

// witnessedFixture is linkedFixture where the federation member
// b.example witnesses the node's log (its cosignature on the latest
// checkpoint) and the node witnesses b.example's log, which once showed
// two different trees of size 1 (evidence).
func witnessedFixture(t *testing.T) (fixture, *browser, int64) {
	t.Helper()
	f, b, idx := linkedFixture(t)
	ctx := coop.AsAdmin(context.Background())
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if err := f.db.Update(ctx, func(tx coop.Tx) error {
		return tx.InsertPeer(ctx, coop.Peer{Actor: bPeer, AddedAt: now, AddedBy: "admin"})
	}); err != nil {
		t.Fatal(err)
	}
	lskey, lvkey, err := ledger.GenerateLogKey(nil, "b.example/decision-log")
	if err != nil {
		t.Fatal(err)
	}
	wskey, wvkey, err := ledger.GenerateWitnessKey(nil, "b.example/witness")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.PinWitnessedLog(ctx, bPeer, coop.RemoteLogInfo{Origin: "b.example/decision-log", URL: "https://b.example/log/",
		Key: lvkey, WitnessKey: wvkey}); err != nil {
		t.Fatal(err)
	}
	// b.example cosigns the node's latest checkpoint.
	w, err := f.svc.WitnessedLog(ctx, "b.example/decision-log")
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := f.svc.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := ledger.NewWitnessSigner(wskey)
	if err != nil {
		t.Fatal(err)
	}
	line, err := ledger.Cosign(c, ws, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RecordCosignature(ctx, w, c.N, line); err != nil {
		t.Fatal(err)
	}
	// b.example's log shows the node one tree of size 1, then another.
	ls, err := note.NewSigner(lskey)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range []string{`{"a":1}`, `{"a":2}`} {
		hs, err := ledger.AppendHashes(0, []byte(rec), ledger.Hashes(nil))
		if err != nil {
			t.Fatal(err)
		}
		h, err := ledger.TreeHash(1, ledger.Hashes(hs))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: "b.example/decision-log", N: 1, Hash: h}, ls)
		if err != nil {
			t.Fatal(err)
		}
		old := int64(0)
		if rec != `{"a":1}` {
			old = 1
		}
		_, err = f.svc.AddCheckpoint(context.Background(), ledger.FormatAddCheckpoint(old, nil, msg))
		if (err != nil) != (old == 1) {
			t.Fatalf("add checkpoint %s: %v", rec, err)
		}
	}
	return f, b, idx
}

func TestDecisionPagesWithWitnesses(t *testing.T) {
	f, _, idx := witnessedFixture(t)
	visitor := newBrowser(t, f.handler)
	_, body := visitor.do("GET", "/decisions", nil)
	for _, want := range []string{"b.example/witness", `href="` + bPeer + `"`, "is cosigned by <span class=\"mono\">b.example/witness</span>",
		"b.example/decision-log", "Inconsistencies found", `class="error"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/decisions lacks %q", want)
		}
	}
	if strings.Contains(body, "None: every checkpoint") {
		t.Error("/decisions says there is no inconsistency")
	}
	_, body = visitor.do("GET", "/decisions/"+strconv.FormatInt(idx, 10), nil)
	if !strings.Contains(body, "cosigned by\n<span class=\"mono\">b.example/witness</span>") || !strings.Contains(body, "--witness b.example/witness&#43;") {
		t.Errorf("the record page does not name the cosigner:\n%s", body)
	}
	r, err := f.svc.LogReceipt(context.Background(), idx)
	if err != nil {
		t.Fatal(err)
	}
	_, page := visitor.do("GET", "/decisions/verify", nil)
	csrf := csrfOf(t, page)
	t.Run("a cosigned receipt verifies and names its cosigner", func(t *testing.T) {
		resp, body := visitor.do("POST", "/decisions/verify", url.Values{"csrf": {csrf}, "receipt": {string(r.Marshal())}})
		if resp.StatusCode != 200 || !strings.Contains(body, "cosigned by 1 witness (<span class=\"mono\">b.example/witness</span>); 1 required") {
			t.Fatalf("%d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("a receipt stripped of its cosignature is refused", func(t *testing.T) {
		bare := r
		text, sigs, _ := strings.Cut(string(r.Checkpoint), "\n\n")
		var keep []string
		for _, l := range strings.SplitAfter(sigs, "\n") {
			if !strings.HasPrefix(l, "— b.example/witness ") {
				keep = append(keep, l)
			}
		}
		bare.Checkpoint = []byte(text + "\n\n" + strings.Join(keep, ""))
		resp, body := visitor.do("POST", "/decisions/verify", url.Values{"csrf": {csrf}, "receipt": {string(bare.Marshal())}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "does not verify") || !strings.Contains(body, "cosign") {
			t.Fatalf("%d\n%s", resp.StatusCode, body)
		}
		t.Logf("reason: %s", body[strings.Index(body, "does not verify"):][:120])
	})
}
