// Package witness runs a node's side of witnessing among the federation's
// members (see coop/witness.go for the rules and why push): it reads each
// member's log keys from its host, asks each member what it holds of this
// node's log before signing, sends the new checkpoint to each member's
// C2SP tlog-witness add-checkpoint endpoint and keeps the cosignatures,
// and reads each member's served checkpoint to check it against the one
// kept. It does network I/O; the decisions are coop's.
//
// It must not import go-fed's streams.
package witness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/netpolicy"
	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Config is what a Witnessing needs.
type Config struct {
	Service *coop.Service
	Policy  *netpolicy.Policy
	// Interval between rounds; 0: one minute.
	Interval time.Duration
	Log      *slog.Logger // nil: discard
}

// Witnessing runs rounds of witnessing, one at a time: call Round (or
// Run) from one goroutine.
type Witnessing struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
	// asked is set once a round has asked every witness what it holds:
	// later rounds ask again only when there is a new size to sign.
	asked bool
}

// Limits of one request to a member.
const (
	requestTimeout = 10 * time.Second
	maxResponse    = 64 << 10
)

// New builds a Witnessing.
func New(cfg Config) *Witnessing {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Policy == nil {
		cfg.Policy = netpolicy.New(nil, false)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Witnessing{
		cfg: cfg,
		log: log,
		client: &http.Client{
			Timeout: requestTimeout,
			Transport: &http.Transport{
				Proxy:                  nil,
				DialContext:            cfg.Policy.Dial,
				ForceAttemptHTTP2:      true,
				TLSHandshakeTimeout:    requestTimeout,
				ResponseHeaderTimeout:  requestTimeout,
				MaxResponseHeaderBytes: 64 << 10,
				MaxIdleConns:           16,
				IdleConnTimeout:        90 * time.Second,
			},
			// A witness endpoint has no business redirecting.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Run runs a round at once, then one every Interval, until ctx
// ends.
func (w *Witnessing) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		if err := w.Round(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("witnessing round", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Round pins the logs of new members, asks the witnesses what they hold
// of this node's log, signs the current size if no witness is ahead,
// sends it to every witness and keeps the cosignatures, and checks every
// member's served checkpoint. It returns the errors of all steps joined;
// one member failing does not stop the others.
func (w *Witnessing) Round(ctx context.Context) error {
	svc := w.cfg.Service
	var errs []error
	peers, err := svc.Peers(ctx)
	if err != nil {
		return err
	}
	current := map[string]coop.WitnessedLog{} // each member's log witnessed now
	all, err := svc.WitnessedLogs(ctx)
	if err != nil {
		return err
	}
	for _, l := range all {
		if !l.Retired {
			current[l.Peer] = l
		}
	}
	for _, p := range peers {
		if err := w.pin(ctx, p.Actor, current); err != nil {
			errs = append(errs, fmt.Errorf("read the log of %s: %w", p.Actor, err))
		}
	}
	all, err = svc.WitnessedLogs(ctx)
	if err != nil {
		return err
	}
	var logs []coop.WitnessedLog // one per member: its open log
	for _, l := range all {
		if !l.Retired {
			logs = append(logs, l)
		}
	}
	info, err := svc.LogInfo(ctx)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	// Before signing: a witness that holds more of our log than we have
	// means this database is behind what the federation has seen. Asked
	// at the first round (a database restored from a backup starts here)
	// and whenever there is a new size to sign.
	ahead := false
	asking := !w.asked || !w.signedAll(ctx, info.Size)
	for _, l := range logs {
		if !asking {
			break
		}
		n, err := w.heldSize(ctx, l, info.Origin)
		if err != nil {
			errs = append(errs, fmt.Errorf("ask %s what it holds: %w", l.Peer, err))
			continue
		}
		if n > info.Size {
			ahead = true
			if err := svc.WitnessAhead(ctx, witnessName(l), n); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if asking && !ahead {
		w.asked = true
	}
	if !ahead {
		if _, signed, err := svc.SignCheckpoint(ctx); err != nil {
			errs = append(errs, err)
		} else {
			for _, l := range logs {
				if err := w.push(ctx, l, signed); err != nil {
					errs = append(errs, fmt.Errorf("witness %s: %w", l.Peer, err))
				}
			}
		}
	} else {
		errs = append(errs, errors.New("a witness holds a larger size of this node's log than its database has: appending and signing are stopped"))
	}
	for _, l := range logs {
		if err := w.check(ctx, l); err != nil {
			errs = append(errs, fmt.Errorf("check the log of %s: %w", l.Peer, err))
		}
	}
	return errors.Join(errs...)
}

// signedAll reports whether the latest signed checkpoint has size n.
func (w *Witnessing) signedAll(ctx context.Context, n int64) bool {
	msg, err := w.cfg.Service.SignedCheckpoint(ctx)
	if err != nil {
		return false
	}
	c, err := ledger.PeekCheckpoint(msg)
	return err == nil && c.N == n
}

// witnessName is the key name of a member's witness key.
func witnessName(l coop.WitnessedLog) string {
	v, err := ledger.NewWitnessVerifier(l.WitnessVKey)
	if err != nil {
		return l.Peer
	}
	return v.Name()
}

// logInfo is the JSON a node serves at /log/.
type logInfo struct {
	Origin     string `json:"origin"`
	URL        string `json:"url"`
	Key        string `json:"key"`
	WitnessKey string `json:"witness_key"`
	WitnessURL string `json:"witness_url"`
	Size       int64  `json:"size"`
}

// pin reads a member's log keys from its own host and starts witnessing
// its log; when the member has rotated its key since, it follows the
// handover from the log witnessed now to the next, checked with the old
// key.
func (w *Witnessing) pin(ctx context.Context, peer string, current map[string]coop.WitnessedLog) error {
	u, err := url.Parse(peer)
	if err != nil {
		return err
	}
	body, _, err := w.get(ctx, u.Scheme+"://"+u.Host+"/log/")
	if err != nil {
		return err
	}
	var info logInfo
	if err := json.Unmarshal(body, &info); err != nil {
		return fmt.Errorf("log info: %w", err)
	}
	cur, ok := current[peer]
	if !ok {
		return w.cfg.Service.PinWitnessedLog(ctx, peer, coop.RemoteLogInfo{Origin: info.Origin, URL: info.URL, Key: info.Key, WitnessKey: info.WitnessKey})
	}
	// A member may rotate more than once between two rounds: follow the
	// handovers one log at a time.
	for hops := 0; cur.Origin != info.Origin && hops < 8; hops++ {
		hb, _, err := w.get(ctx, fmt.Sprintf("%shandover?from=%s&old=%d", cur.URL, url.QueryEscape(cur.Origin), cur.Size))
		if err != nil {
			return fmt.Errorf("handover from %s: %w", cur.Origin, err)
		}
		h, err := parseHandover(hb)
		if err != nil {
			return fmt.Errorf("handover from %s: %w", cur.Origin, err)
		}
		if err := w.cfg.Service.FollowRotation(ctx, cur.Origin, h, cur.URL); err != nil {
			return fmt.Errorf("handover from %s: %w", cur.Origin, err)
		}
		next, err := ledger.PeekCheckpoint(h.OpenedCheckpoint)
		if err != nil {
			return err
		}
		if cur, err = w.cfg.Service.WitnessedLog(ctx, next.Origin); err != nil {
			return err
		}
	}
	return nil
}

// parseHandover reads the JSON of /log/handover.
func parseHandover(b []byte) (coop.Handover, error) {
	var h coop.Handover
	err := json.Unmarshal(b, &h)
	return h, err
}

// witnessURL is the member's tlog-witness prefix, on its host.
func witnessURL(l coop.WitnessedLog) string {
	u, err := url.Parse(l.URL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + "/witness/"
}

// heldSize asks a member's witness the size it keeps of our log (0 when
// it keeps none).
func (w *Witnessing) heldSize(ctx context.Context, l coop.WitnessedLog, origin string) (int64, error) {
	body, status, err := w.get(ctx, witnessURL(l)+"checkpoint?origin="+url.QueryEscape(origin))
	if status == http.StatusNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	// The witness's copy must carry our own signature: open it with our
	// key, so that a witness cannot stop us with a made-up size.
	v, err := w.cfg.Service.LogVerifier(ctx)
	if err != nil {
		return 0, err
	}
	sc, err := ledger.OpenCheckpoint(body, origin, v, nil)
	if err != nil {
		return 0, fmt.Errorf("the checkpoint it holds: %w", err)
	}
	return sc.N, nil
}

// push sends our signed checkpoint to a member's witness with a proof
// from the size it last cosigned, and keeps the cosignature. A 409 names
// the size it holds: the proof is made again from there, once.
func (w *Witnessing) push(ctx context.Context, l coop.WitnessedLog, signed []byte) error {
	svc := w.cfg.Service
	name := witnessName(l)
	c, err := ledger.PeekCheckpoint(signed)
	if err != nil {
		return err
	}
	old, err := svc.CosignedSize(ctx, name)
	if err != nil {
		return err
	}
	if old == c.N {
		return nil // this witness has cosigned this size already
	}
	for attempt := 0; attempt < 2; attempt++ {
		if old > c.N {
			return svc.WitnessAhead(ctx, name, old)
		}
		proof, err := svc.LogConsistency(ctx, old, c.N)
		if err != nil {
			return err
		}
		body := ledger.FormatAddCheckpoint(old, proof, signed)
		resp, err := w.post(ctx, witnessURL(l)+"add-checkpoint", body)
		if err != nil {
			return err
		}
		switch resp.status {
		case http.StatusOK:
			return svc.RecordCosignature(ctx, l, c.N, resp.body)
		case http.StatusConflict:
			n, err := strconv.ParseInt(strings.TrimSpace(string(resp.body)), 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("409 without a size: %q", resp.body)
			}
			old = n
		default:
			return fmt.Errorf("add-checkpoint answered %d: %s", resp.status, bytes.TrimSpace(resp.body))
		}
	}
	return fmt.Errorf("add-checkpoint: the witness's size kept changing")
}

// check reads a member's served checkpoint and a consistency proof from
// the size kept, and has coop check them (a fork shown to someone else is
// found here).
func (w *Witnessing) check(ctx context.Context, l coop.WitnessedLog) error {
	// The kept size as of now: the member's push may have moved it since
	// the round began.
	l, err := w.cfg.Service.WitnessedLog(ctx, l.Origin)
	if err != nil || l.Size == 0 {
		return err
	}
	signed, _, err := w.get(ctx, l.URL+"checkpoint")
	if err != nil {
		return err
	}
	v, err := note.NewVerifier(l.VKey)
	if err != nil {
		return err
	}
	sc, err := ledger.OpenCheckpoint(signed, l.Origin, v, nil)
	if err != nil {
		return err
	}
	var proof tlog.TreeProof
	if sc.N > l.Size {
		body, _, err := w.get(ctx, fmt.Sprintf("%sproof/consistency?old=%d&new=%d", l.URL, l.Size, sc.N))
		if err != nil {
			return err
		}
		if proof, err = ledger.ParseProof(body); err != nil {
			return err
		}
	}
	return w.cfg.Service.CheckServedCheckpoint(ctx, l.Origin, l.Size, signed, proof)
}

type response struct {
	status int
	body   []byte
}

func (w *Witnessing) get(ctx context.Context, u string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := w.do(req)
	if err != nil {
		return nil, 0, err
	}
	if resp.status != http.StatusOK {
		return nil, resp.status, fmt.Errorf("GET %s: %d %s", u, resp.status, bytes.TrimSpace(resp.body))
	}
	return resp.body, resp.status, nil
}

func (w *Witnessing) post(ctx context.Context, u string, body []byte) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	return w.do(req)
}

func (w *Witnessing) do(req *http.Request) (response, error) {
	if req.URL.Scheme != w.cfg.Policy.Scheme(req.URL.Host) {
		return response{}, fmt.Errorf("%s: this node reaches %s only over %s", req.URL.Redacted(), req.URL.Host, w.cfg.Policy.Scheme(req.URL.Host))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return response{}, err
	}
	if len(b) > maxResponse {
		return response{}, fmt.Errorf("%s: answer over %d bytes", req.URL.Redacted(), maxResponse)
	}
	return response{status: resp.StatusCode, body: b}, nil
}
