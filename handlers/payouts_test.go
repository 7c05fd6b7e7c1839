package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
)

// TestPayoutPages: a member creates a round in the form and sees its
// draft split; its creator cannot approve it, even by posting, and is
// told why; a second member approves it; the statement downloads are
// coop's statement byte for byte (the final JSON the stored bytes); the
// verification matches; a visitor sees no pay.
func TestPayoutPages(t *testing.T) {
	f := newFixture(t)
	contribFixture(t, f)
	web := func(h string) context.Context {
		return coop.WithPrincipal(context.Background(), coop.Principal{ID: "https://coop.example/users/" + h, Channel: ledger.ChannelWeb})
	}
	c, err := f.svc.AddContribution(web("alice"), coop.NewContribution{Project: "kit", Kind: coop.KindCode, Minutes: 97, Day: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DecideContribution(web("bea"), c.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	alice := contribSignIn(t, f, "alice")
	bea := contribSignIn(t, f, "bea")
	const list = "/projects/kit/payouts"

	resp, page := alice.do("GET", list, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "No rounds yet") || !strings.Contains(page, "Create a round") {
		t.Fatalf("rounds: %d\n%s", resp.StatusCode, page)
	}
	token := csrfOf(t, page)
	form := url.Values{"from": {"2026-11-01"}, "to": {"2026-11-25"}, "budget": {"100.00"}, "currency": {"eur"}, "formula": {"minutes"}, "rate": {"60"}}
	if resp, _ := alice.do("POST", list, form); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("create without token: %d", resp.StatusCode)
	}
	form.Set("csrf", token)
	t.Run("a refused round says why and keeps the form", func(t *testing.T) {
		resp, page := alice.do("POST", list, withField(form, "formula", "equal"))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "role=\"alert\"") || !strings.Contains(page, `value="100.00"`) {
			t.Fatalf("%d\n%s", resp.StatusCode, page)
		}
	})
	resp, _ = alice.do("POST", list, form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/payouts/1?created=1" {
		t.Fatalf("create: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = alice.do("GET", "/payouts/1?created=1", nil)
	for _, want := range []string{"Round created as a draft", "Draft split", "1 h 37", "97.00", "Unallocated", "3.00 EUR",
		"You cannot approve it. The member who created a round does not approve it: a second member does."} {
		if !strings.Contains(page, want) {
			t.Fatalf("draft page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, `action="/payouts/1/approve"`) {
		t.Fatal("the creator is offered the approval")
	}
	t.Run("the creator cannot approve, even by posting, and is told why", func(t *testing.T) {
		resp, page := alice.do("POST", "/payouts/1/approve", url.Values{"csrf": {token}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "The member who created a round does not approve it") {
			t.Fatalf("%d\n%s", resp.StatusCode, page)
		}
	})
	_, page = alice.do("GET", list, nil)
	if !strings.Contains(page, `href="/payouts/1"`) || !strings.Contains(page, "100.00 EUR") {
		t.Fatalf("rounds list:\n%s", page)
	}

	_, page = bea.do("GET", "/payouts/1", nil)
	if !strings.Contains(page, `action="/payouts/1/approve"`) {
		t.Fatalf("bea is not offered the approval:\n%s", page)
	}
	if resp, _ := bea.do("POST", "/payouts/1/approve", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("approve with alice's token: %d", resp.StatusCode)
	}
	resp, _ = bea.do("POST", "/payouts/1/approve", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/payouts/1?approved=1" {
		t.Fatalf("bea approves: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = alice.do("GET", "/payouts/1?approved=1", nil)
	for _, want := range []string{"Round approved", "Approved by", ">bea<", "Input hash", "the exact file whose hash the decision log holds"} {
		if !strings.Contains(page, want) {
			t.Fatalf("final page lacks %q:\n%s", want, page)
		}
	}

	t.Run("downloads are coop's statement byte for byte", func(t *testing.T) {
		r, st, err := f.svc.ShowPayoutRound(coop.AsAdmin(context.Background()), 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ path, ctype, name, body string }{
			{"/payouts/1/statement.csv", "text/csv; charset=utf-8", "payout-1-final.csv", string(st.CSV())},
			{"/payouts/1/statement.json", "application/json", "payout-1-final.json", string(r.Statement)},
		} {
			resp, body := alice.do("GET", tt.path, nil)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tt.ctype ||
				resp.Header.Get("Content-Disposition") != `attachment; filename="`+tt.name+`"` || body != tt.body {
				t.Fatalf("%s: %d %q %q\n%s\nwant\n%s", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body, tt.body)
			}
		}
		if !strings.Contains(string(st.CSV()), "97.00") || len(r.Statement) == 0 {
			t.Fatalf("statement %s / %s", st.CSV(), r.Statement)
		}
	})
	t.Run("verify", func(t *testing.T) {
		resp, page := bea.do("GET", "/payouts/1/verify", nil)
		if resp.StatusCode != 200 || !strings.Contains(page, "It matches: 1 records recomputed") {
			t.Fatalf("%d\n%s", resp.StatusCode, page)
		}
	})
	t.Run("a visitor sees no pay", func(t *testing.T) {
		for _, p := range []string{list, "/payouts/1", "/payouts/1/statement.csv", "/payouts/1/statement.json", "/payouts/1/verify"} {
			visitorSees(t, f, "GET", p, "97.00", "1 h 37", "alice")
		}
		visitorSees(t, f, "POST", list, "97.00")
		visitorSees(t, f, "POST", "/payouts/1/approve", "97.00")
	})
	t.Run("a round with no approved records yet says so", func(t *testing.T) {
		_, page := bea.do("GET", list, nil)
		empty := url.Values{"csrf": {csrfOf(t, page)}, "from": {"2026-10-01"}, "to": {"2026-11-01"}, "budget": {"50"}, "currency": {"EUR"}, "formula": {"points"}}
		if resp, _ := bea.do("POST", list, empty); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/payouts/2?created=1" {
			t.Fatalf("create: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, page := alice.do("GET", "/payouts/2", nil)
		if resp.StatusCode != 200 || !strings.Contains(page, "No split yet") || !strings.Contains(page, `action="/payouts/2/approve"`) {
			t.Fatalf("%d\n%s", resp.StatusCode, page)
		}
		if resp, _ := alice.do("GET", "/payouts/2/statement.csv", nil); resp.StatusCode != http.StatusConflict {
			t.Fatalf("statement of no split: %d", resp.StatusCode)
		}
		if resp, body := alice.do("HEAD", "/payouts/1/statement.csv", nil); resp.StatusCode != 200 || body != "" {
			t.Fatalf("HEAD: %d %q", resp.StatusCode, body)
		}
	})
	t.Run("an unknown round", func(t *testing.T) {
		if resp, _ := alice.do("GET", "/payouts/9", nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
}
