package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/note"
)

// linkedFixture is the pages' fixture where alice linked annAccount
// (a member.account_linked record, the account as a commitment) and the
// log is signed; it returns alice's browser and the record's index.
func linkedFixture(t *testing.T) (fixture, *browser, int64) {
	t.Helper()
	f := newFixture(t)
	b := signedIn(t, f, "alice")
	alice := coop.WithPrincipal(context.Background(), f.svc.WebPrincipal(coop.Member{Actor: coop.Actor{Handle: "alice"}}))
	code, _, err := f.svc.LinkCode(alice, "alice")
	if err != nil {
		t.Fatal(err)
	}
	sendDirect(t, f, annAccount, code)
	if _, err := f.svc.LinkConfirm(alice, "alice", annAccount); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.SignCheckpoint(coop.AsAdmin(context.Background())); err != nil {
		t.Fatal(err)
	}
	info, err := f.svc.LogInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return f, b, info.Size - 1
}

func TestDecisionPages(t *testing.T) {
	f, alice, idx := linkedFixture(t)
	visitor := newBrowser(t, f.handler)
	path := "/decisions/" + strconv.FormatInt(idx, 10)
	for _, page := range []string{"/decisions", path} {
		t.Run("a visitor sees the commitment, not the account: "+page, func(t *testing.T) {
			resp, body := visitor.do("GET", page, nil)
			if resp.StatusCode != 200 || !strings.Contains(body, "member.account_linked") || !strings.Contains(body, "sha256:") {
				t.Fatalf("%s: %d\n%s", page, resp.StatusCode, body)
			}
			if strings.Contains(body, annAccount) {
				t.Fatalf("%s shows the linked account to a visitor:\n%s", page, body)
			}
		})
		t.Run("the member sees their own value: "+page, func(t *testing.T) {
			_, body := alice.do("GET", page, nil)
			if !strings.Contains(body, annAccount) || !strings.Contains(body, "shown to you only") {
				t.Fatalf("%s does not show alice her account:\n%s", page, body)
			}
		})
	}
	t.Run("a record's page has its proof, checkpoint, receipt and how to check it", func(t *testing.T) {
		_, body := visitor.do("GET", path, nil)
		for _, want := range []string{"Inclusion proof", "coop.example/decision-log", `href="/log/receipt/` + strconv.FormatInt(idx, 10) + `"`,
			"coopfed log verify --receipt receipt.txt", "--key coop.example/decision-log&#43;", "no witness yet"} {
			if !strings.Contains(body, want) {
				t.Errorf("record page lacks %q", want)
			}
		}
	})
	t.Run("the list is newest first and pages", func(t *testing.T) {
		_, body := visitor.do("GET", "/decisions", nil)
		first := strings.Index(body, `href="`+path+`"`)
		older := strings.Index(body, `href="/decisions/`+strconv.FormatInt(idx-1, 10)+`"`)
		if first < 0 || older < 0 || first > older {
			t.Fatalf("order: record %d at %d, %d at %d", idx, first, idx-1, older)
		}
		resp, body := visitor.do("GET", "/decisions?before=1", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, `href="/decisions/0"`) || strings.Contains(body, `href="/decisions/1"`) {
			t.Fatalf("before=1: %d\n%s", resp.StatusCode, body)
		}
		if resp, _ := visitor.do("GET", "/decisions?before=x", nil); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("before=x: %d", resp.StatusCode)
		}
	})
	t.Run("no such record", func(t *testing.T) {
		if resp, _ := visitor.do("GET", "/decisions/9999", nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("the witnesses section", func(t *testing.T) {
		_, body := visitor.do("GET", "/decisions", nil)
		for _, want := range []string{"Who witnesses this log", "Logs this node witnesses", "Inconsistencies found"} {
			if !strings.Contains(body, want) {
				t.Errorf("lacks %q", want)
			}
		}
	})
}

func TestVerifyReceiptForm(t *testing.T) {
	f, alice, idx := linkedFixture(t)
	r, err := f.svc.LogReceipt(context.Background(), idx)
	if err != nil {
		t.Fatal(err)
	}
	visitor := newBrowser(t, f.handler)
	_, page := visitor.do("GET", "/decisions/verify", nil)
	csrf := csrfOf(t, page)
	if visitor.cookies[preCookie] == nil {
		t.Fatal("the visitor's form has no cookie to bind its token to")
	}
	t.Run("a form without its token is refused", func(t *testing.T) {
		resp, _ := visitor.do("POST", "/decisions/verify", url.Values{"receipt": {string(r.Marshal())}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("a receipt of this log verifies", func(t *testing.T) {
		resp, body := visitor.do("POST", "/decisions/verify", url.Values{"csrf": {csrf}, "receipt": {strings.ReplaceAll(string(r.Marshal()), "\n", "\r\n")}})
		if resp.StatusCode != 200 || !strings.Contains(body, "The receipt verifies") || !strings.Contains(body, "member.account_linked") ||
			!strings.Contains(body, "checkpoint size "+strconv.FormatInt(idx+1, 10)) {
			t.Fatalf("%d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("a tampered receipt is refused with the reason", func(t *testing.T) {
		bad := r
		bad.Record = bytes.Replace(r.Record, []byte("member.account_linked"), []byte("member.account_unlinked"), 1)
		resp, body := visitor.do("POST", "/decisions/verify", url.Values{"csrf": {csrf}, "receipt": {string(bad.Marshal())}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "does not verify") ||
			!strings.Contains(body, "record is not in the receipt&#39;s checkpoint") {
			t.Fatalf("%d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("a receipt signed by another key is refused with the reason", func(t *testing.T) {
		skey, _, err := ledger.GenerateLogKey(rand.Reader, "coop.example/decision-log")
		if err != nil {
			t.Fatal(err)
		}
		signer, err := note.NewSigner(skey)
		if err != nil {
			t.Fatal(err)
		}
		text, _, _ := strings.Cut(string(r.Checkpoint), "\n\n")
		forged := r
		if forged.Checkpoint, err = note.Sign(&note.Note{Text: text + "\n"}, signer); err != nil {
			t.Fatal(err)
		}
		resp, body := visitor.do("POST", "/decisions/verify", url.Values{"csrf": {csrf}, "receipt": {string(forged.Marshal())}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "does not verify") || !strings.Contains(body, "sign") {
			t.Fatalf("%d\n%s", resp.StatusCode, body)
		}
		t.Logf("reason: %s", regexp.MustCompile(`role="alert">([^<]*)<`).FindStringSubmatch(body)[1])
	})
	t.Run("a signed-in member uses their session's token", func(t *testing.T) {
		_, page := alice.do("GET", "/decisions/verify", nil)
		resp, body := alice.do("POST", "/decisions/verify", url.Values{"csrf": {csrfOf(t, page)}, "receipt": {"not a receipt"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "does not verify") {
			t.Fatalf("%d\n%s", resp.StatusCode, body)
		}
	})
}
