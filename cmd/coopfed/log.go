package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"filippo.io/torchwood"
	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/note"
)

func runLog(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, "log", args, []command{
		{"show", "list the decision log's records", logShow},
		{"verify", "check the whole log (database or URL), or one receipt offline", logVerify},
		{"prove", "print the receipt of a record: the record, its inclusion proof, the cosigned checkpoint", logProve},
		{"witnesses", "list the logs this node witnesses, and any inconsistency found", logWitnesses},
		{"rotate", "retire the log's key: the old log closes naming the new one, which opens naming the old one's final checkpoint", logRotate},
	})
}

func logShow(ctx context.Context, e *env, args []string) error {
	fs := newFlags("log show", "log show [--from N] [--limit N] [--config PATH]", e.stderr)
	path := configFlag(fs)
	from := fs.Int64("from", 0, "first index")
	limit := fs.Int64("limit", 50, "how many records")
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	l, err := n.db.OpenLog(ctx)
	if err != nil {
		return err
	}
	to := min(l.Size, *from+*limit)
	if *from < 0 || *from > to {
		return usagef("--from %d is outside the log of %d records", *from, l.Size)
	}
	recs, err := n.db.LogRecords(ctx, l.ID, *from, to)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %d records\n", l.Origin, l.Size)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tTIME\tTYPE\tPRINCIPAL\tCHANNEL\tSUBJECT")
	for i, b := range recs {
		r, err := ledger.ParseRecord(b)
		if err != nil {
			return fmt.Errorf("record %d: %w", *from+int64(i), err)
		}
		who := r.Principal
		if f, ok := r.Data["on_behalf_of"].(string); ok {
			who += " for " + f
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", *from+int64(i), r.Time.Format(time.RFC3339), r.Type, who, r.Channel, r.Subject)
	}
	return tw.Flush()
}

// keyList is a repeated --witness flag.
type keyList []string

func (k *keyList) String() string     { return strings.Join(*k, ",") }
func (k *keyList) Set(v string) error { *k = append(*k, v); return nil }

func logVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags("log verify", "log verify [--config PATH] | --url URL [--key VKEY] | --receipt FILE [--key VKEY] [--witness VKEY]... [--min-cosignatures N]", e.stderr)
	path := configFlag(fs)
	logURL := fs.String("url", "", "verify the log served at this URL (its tlog-tiles prefix, e.g. https://host/log/) instead of the database")
	receipt := fs.String("receipt", "", "verify this receipt (from log prove) offline")
	key := fs.String("key", "", "the log's verifier key (default: the node's own, from the config)")
	var witnesses keyList
	fs.Var(&witnesses, "witness", "a witness's verifier key whose cosignature counts (default: the federation members' witness keys the node holds)")
	minCos := fs.Int("min-cosignatures", -1, "cosignatures a receipt needs (default: 1 when the node has federation members, else 0)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, ""); err != nil {
		return err
	}
	switch {
	case *receipt != "":
		return verifyReceipt(ctx, e, *path, *receipt, *key, witnesses, *minCos)
	case *logURL != "":
		return verifyURL(ctx, e, *logURL, *key)
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	reps, err := n.svc.VerifyChain(ctx)
	for _, rep := range reps[:max(0, len(reps)-1)] {
		fmt.Fprintf(e.stdout, "ok: %s (closed), %d records; %d signed checkpoints match them; its last record hands over to the next log\n",
			rep.Origin, rep.Records, rep.Checkpoints)
	}
	if err != nil {
		origin := ""
		if len(reps) > 0 {
			origin = reps[len(reps)-1].Origin
		}
		var bad *ledger.BadRecordError
		if errors.As(err, &bad) {
			return fmt.Errorf("the decision log %s does NOT verify: first bad index %d: %s", origin, bad.Index, bad.Reason)
		}
		return fmt.Errorf("the decision log does NOT verify: %w", err)
	}
	rep := reps[len(reps)-1]
	fmt.Fprintf(e.stdout, "ok: %s, %d records hash into the stored tree; %d signed checkpoints (%d cosigned by witnesses, latest size %d) all match it\n",
		rep.Origin, rep.Records, rep.Checkpoints, rep.Cosigned, rep.Latest)
	return nil
}

// verifyURL reads a log over HTTP with torchwood's tlog-tiles client,
// which checks every tile against the signed checkpoint's root, and parses
// every record.
func verifyURL(ctx context.Context, e *env, base, key string) error {
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	get := func(u string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		return b, nil
	}
	if key == "" {
		b, err := get(base)
		if err != nil {
			return fmt.Errorf("no --key given, and the log's info: %w", err)
		}
		var info struct {
			Key string `json:"key"`
		}
		if err := json.Unmarshal(b, &info); err != nil {
			return fmt.Errorf("the log's info: %w", err)
		}
		key = info.Key
		fmt.Fprintf(e.stderr, "warning: using the key the server itself publishes (%s); pass --key for one you got elsewhere\n", key)
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		return fmt.Errorf("--key: %w", err)
	}
	signed, err := get(base + "checkpoint")
	if err != nil {
		return err
	}
	sc, err := ledger.OpenCheckpoint(signed, v.Name(), v, nil)
	if err != nil {
		return fmt.Errorf("the served checkpoint: %w", err)
	}
	tf, err := torchwood.NewTileFetcher(base, torchwood.WithUserAgent("coopfed/"+version+" log verify"))
	if err != nil {
		return err
	}
	client, err := torchwood.NewClient(tf)
	if err != nil {
		return err
	}
	var next int64
	for next < sc.N {
		progressed := false
		for i, rec := range client.Entries(ctx, sc.Tree(), next) {
			if _, err := ledger.ParseRecord(rec); err != nil {
				return fmt.Errorf("the log at %s does NOT verify: first bad index %d: %w", base, i, err)
			}
			next, progressed = i+1, true
		}
		if err := client.Err(); err != nil {
			return fmt.Errorf("the log at %s does NOT verify: at index %d: %w", base, next, err)
		}
		if !progressed {
			// The trailing partial bundle: read one by one.
			rec, _, err := client.Entry(ctx, sc.Tree(), next)
			if err != nil {
				return fmt.Errorf("the log at %s does NOT verify: at index %d: %w", base, next, err)
			}
			if _, err := ledger.ParseRecord(rec); err != nil {
				return fmt.Errorf("the log at %s does NOT verify: first bad index %d: %w", base, next, err)
			}
			next++
		}
	}
	// Cosignatures are not checked here: that needs the witnesses' keys
	// (log verify --receipt takes them).
	fmt.Fprintf(e.stdout, "ok: %s, %d records match the checkpoint signed by %s (%d other signature lines, not checked)\n",
		sc.Origin, sc.N, v.Name(), len(sc.Note.UnverifiedSigs))
	return nil
}

func verifyReceipt(ctx context.Context, e *env, path, file, key string, witnesses []string, minCos int) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	// Without keys on the command line, the node's own log key and its
	// members' witness keys, from the database.
	if key == "" || len(witnesses) == 0 {
		n, err := openNode(ctx, path)
		if err != nil {
			return fmt.Errorf("no --key given, and the node's config: %w", err)
		}
		defer n.Close()
		lk, ws, err := n.svc.LogKeys(ctx)
		if err != nil {
			return err
		}
		if key == "" {
			key = lk
		}
		if len(witnesses) == 0 {
			witnesses = ws
		}
	}
	c, err := coop.CheckReceipt(b, key, witnesses, minCos)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "ok: record %d (%s by %s, %s) is in %s at size %d, cosigned by %d witnesses (%s; %d required)\n",
		c.Index, c.Record.Type, c.Record.Principal, c.Record.Time.Format(time.RFC3339), c.Origin, c.Size, len(c.Cosigners), strings.Join(c.Cosigners, ", "), c.Required)
	return nil
}

func logProve(ctx context.Context, e *env, args []string) error {
	fs := newFlags("log prove", "log prove INDEX [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "INDEX")
	if err != nil {
		return err
	}
	defer n.Close()
	index, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || index < 0 {
		return usagef("INDEX must be a record index, not %q", pos[0])
	}
	r, err := n.svc.LogReceipt(ctx, index)
	if errors.Is(err, coop.ErrNotFound) {
		// Not in a signed checkpoint yet: sign the current size.
		if _, _, err := n.svc.SignCheckpoint(ctx); err != nil {
			return err
		}
		r, err = n.svc.LogReceipt(ctx, index)
	}
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(r.Marshal())
	return err
}

func logWitnesses(ctx context.Context, e *env, args []string) error {
	fs := newFlags("log witnesses", "log witnesses [--config PATH]", e.stderr)
	path := configFlag(fs)
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	ws, err := n.svc.WitnessedLogs(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOG\tMEMBER\tSIZE KEPT\tUPDATED")
	for _, w := range ws {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", w.Origin, w.Peer, w.Size, w.Updated.Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	es, err := n.svc.Evidence(ctx)
	if err != nil {
		return err
	}
	if len(es) == 0 {
		fmt.Fprintln(e.stdout, "no inconsistency found")
		return nil
	}
	fmt.Fprintf(e.stdout, "%d INCONSISTENCIES FOUND:\n", len(es))
	for _, x := range es {
		fmt.Fprintf(e.stdout, "#%d %s %s: %s\n", x.ID, x.Found.Format(time.RFC3339), x.Origin, x.Reason)
	}
	return nil
}

func runBackup(ctx context.Context, e *env, args []string) error {
	fs := newFlags("backup", "backup --out FILE [--config PATH]", e.stderr)
	path := configFlag(fs)
	out := fs.String("out", "", "the file to write (must not exist); it holds every private key of the node")
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	if *out == "" {
		return usagef("--out FILE is required")
	}
	if err := n.db.Backup(ctx, *out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s (mode 0600): it holds the node's private keys (actors, decision log, witness); keep it as safe as the node\n", *out)
	return nil
}

func logRotate(ctx context.Context, e *env, args []string) error {
	fs := newFlags("log rotate", "log rotate [--config PATH]", e.stderr)
	path := configFlag(fs)
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	l, err := n.svc.RotateLog(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "the decision log continues as %s, key %s; the old log is closed and verifies as its prefix (coopfed log verify)\n", l.Origin, l.VKey)
	return nil
}
