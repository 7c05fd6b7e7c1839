package coop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Principal is who acts, and by which channel. Every use case that changes
// what the co-op decided, or who belongs to it, runs on behalf of one (see
// WithPrincipal), and the decision log names it.
type Principal struct {
	// ID is a member's or a remote actor's URI, AdminPrincipal for the
	// node's operator at the command line (who holds the node's files), or
	// the node's host for what the node does by itself.
	ID string
	// Channel is one of ledger's Channel constants.
	Channel string
	// For is the member an admin acts for, if any: the record then names
	// the admin as the principal and the member as on_behalf_of.
	For string
}

// AdminPrincipal names the node's operator: whoever runs the coopfed
// command with access to its configuration and database.
const AdminPrincipal = "admin"

// ErrNoPrincipal is returned by a use case called without a principal.
var ErrNoPrincipal = errors.New("no principal: every action needs to say who takes it")

type principalKey struct{}

// WithPrincipal returns a context that carries p, for the use cases called
// with it.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal ctx carries.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok && p.ID != "" && p.Channel != ""
}

// AsAdmin is ctx acting as the node's operator at the command line.
func AsAdmin(ctx context.Context) context.Context {
	return WithPrincipal(ctx, Principal{ID: AdminPrincipal, Channel: ledger.ChannelCLI})
}

// DecisionLog is one of the node's decision logs (a key rotation closes
// one and opens the next).
type DecisionLog struct {
	ID     int64
	Origin string // "HOST/decision-log", the checkpoints' first line and the key's name
	SKey   string // the private note signer key
	VKey   string // the note verifier key, published on the co-op's actor
	Size   int64
	// Floor is the largest size a witness reported having seen of this
	// log (FloorWitness): the node appends nothing while Size < Floor.
	Floor        int64
	FloorWitness string
	Created      time.Time
	Closed       time.Time
	IsClosed     bool
}

// LogCheckpoint is a checkpoint of the node's log as signed (Note, a
// C2SP signed note), with the cosignature lines its witnesses sent.
type LogCheckpoint struct {
	LogID        int64
	Size         int64
	Note         []byte
	Signed       time.Time
	Cosignatures []LogCosignature
}

// LogCosignature is one witness's signature line on a checkpoint.
type LogCosignature struct {
	Witness  string
	Line     string
	Received time.Time
}

// LogOrigin is the origin line of the node's first decision log.
func (s Site) LogOrigin() string { return s.Host + "/decision-log" }

// LogURL is the URL prefix under which the log is served as C2SP
// tlog-tiles ("checkpoint", "tile/...").
func (s Site) LogURL() string { return s.URL("/log/") }

// event is what a use case records in the decision log.
type event struct {
	Type    string
	Subject string
	Data    map[string]any
	// Personal values go in as salted commitments; the plain value and
	// its salt stay in the database, erasable.
	Personal map[string]string
	// State is the state the event leaves (the member list after an
	// admission, the federation after a peer joins, a project's facts):
	// the record carries its hash, so anyone who holds that state can
	// check it against the log.
	State any
}

// stateHash is "sha256:<hex>" of the JSON of v (encoding/json: map keys
// sorted, slices in order), or "" for nil.
func stateHash(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("state hash: %w", err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// memberState is the list of live members' actor URIs, sorted.
func (s *Service) memberState(ctx context.Context, r Reader) (any, error) {
	ms, err := r.Members(ctx)
	if err != nil {
		return nil, err
	}
	uris := make([]string, 0, len(ms))
	for _, m := range ms {
		uris = append(uris, s.Site.ActorID(m.Handle))
	}
	slices.Sort(uris)
	return map[string]any{"members": uris}, nil
}

// federationState is the list of the federation's co-ops, sorted.
func federationState(ctx context.Context, r Reader) (any, error) {
	ps, err := r.Peers(ctx)
	if err != nil {
		return nil, err
	}
	uris := make([]string, 0, len(ps))
	for _, p := range ps {
		uris = append(uris, p.Actor)
	}
	slices.Sort(uris)
	return map[string]any{"federation": uris}, nil
}

// projectsState is the list of live projects' actor URIs, sorted.
func (s *Service) projectsState(ctx context.Context, r Reader) (any, error) {
	ps, err := r.Projects(ctx)
	if err != nil {
		return nil, err
	}
	uris := make([]string, 0, len(ps))
	for _, p := range ps {
		uris = append(uris, s.Site.ActorID(p.Handle))
	}
	slices.Sort(uris)
	return map[string]any{"projects": uris}, nil
}

// logEvent appends ev to the decision log in tx, the transaction that makes
// the change it describes, on behalf of the principal ctx carries. It
// returns the record's index.
func (s *Service) logEvent(ctx context.Context, tx Tx, ev event) (int64, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return 0, fmt.Errorf("log %s: %w", ev.Type, ErrNoPrincipal)
	}
	l, err := s.openLog(ctx, tx)
	if err != nil {
		return 0, err
	}
	data := make(map[string]any, len(ev.Data)+len(ev.Personal)+1)
	maps.Copy(data, ev.Data)
	if p.For != "" {
		data["on_behalf_of"] = p.For
	}
	type opening struct {
		field, value string
		salt         [ledger.SaltSize]byte
	}
	var openings []opening
	for _, field := range slices.Sorted(maps.Keys(ev.Personal)) {
		salt, err := ledger.NewSalt(s.rand())
		if err != nil {
			return 0, err
		}
		value := ev.Personal[field]
		data[field] = ledger.Commit(field, value, salt)
		openings = append(openings, opening{field, value, salt})
	}
	sh, err := stateHash(ev.State)
	if err != nil {
		return 0, err
	}
	rec := ledger.Record{
		Type:      ev.Type,
		Time:      s.now(),
		Principal: p.ID,
		Channel:   p.Channel,
		Subject:   ev.Subject,
		Data:      data,
		StateHash: sh,
	}
	b, err := rec.Encode()
	if err != nil {
		return 0, fmt.Errorf("log %s: %w", ev.Type, err)
	}
	idx, err := tx.AppendLog(ctx, l.ID, b)
	if err != nil {
		return 0, err
	}
	for _, o := range openings {
		if err := tx.SavePersonal(ctx, l.ID, idx, o.field, o.value, o.salt[:]); err != nil {
			return 0, err
		}
	}
	return idx, nil
}

// openLog returns the open decision log, creating the node's first one
// (and its witness key) when there is none yet.
func (s *Service) openLog(ctx context.Context, tx Tx) (DecisionLog, error) {
	l, err := tx.OpenLog(ctx)
	if err == nil {
		if l.Floor > l.Size {
			return DecisionLog{}, &BehindWitnessError{Size: l.Size, Floor: l.Floor, Witness: l.FloorWitness}
		}
		return l, nil
	}
	if !isNotFound(err) {
		return DecisionLog{}, err
	}
	if logs, err := tx.Logs(ctx); err != nil {
		return DecisionLog{}, err
	} else if len(logs) > 0 {
		return DecisionLog{}, fmt.Errorf("the decision log %s is closed and no other is open", logs[len(logs)-1].Origin)
	}
	return s.createLog(ctx, tx)
}

// createLog makes the node's first log: its Ed25519 key, a witness key
// when the node has none, and a first record naming both.
func (s *Service) createLog(ctx context.Context, tx Tx) (DecisionLog, error) {
	origin := s.Site.LogOrigin()
	skey, vkey, err := ledger.GenerateLogKey(s.rand(), origin)
	if err != nil {
		return DecisionLog{}, fmt.Errorf("log key: %w", err)
	}
	now := s.now()
	l, err := tx.CreateLog(ctx, origin, skey, vkey, now)
	if err != nil {
		return DecisionLog{}, err
	}
	w, err := s.ensureWitnessKey(ctx, tx)
	if err != nil {
		return DecisionLog{}, err
	}
	rec := ledger.Record{
		Type:      "log.opened",
		Time:      now,
		Principal: s.Site.Host,
		Channel:   ledger.ChannelSystem,
		Subject:   origin,
		Data:      map[string]any{"log_key": vkey, "witness_key": w.VKey},
	}
	b, err := rec.Encode()
	if err != nil {
		return DecisionLog{}, err
	}
	if _, err := tx.AppendLog(ctx, l.ID, b); err != nil {
		return DecisionLog{}, err
	}
	l.Size = 1
	return l, nil
}

// WitnessKey is the node's key for cosigning the logs it witnesses (C2SP
// tlog-cosignature/v1), distinct from its log keys.
type WitnessKey struct {
	Name, SKey, VKey string
}

func (s *Service) ensureWitnessKey(ctx context.Context, tx Tx) (WitnessKey, error) {
	w, err := tx.WitnessKey(ctx)
	if err == nil || !isNotFound(err) {
		return w, err
	}
	name := s.Site.Host + "/witness"
	skey, vkey, err := ledger.GenerateWitnessKey(s.rand(), name)
	if err != nil {
		return WitnessKey{}, fmt.Errorf("witness key: %w", err)
	}
	w = WitnessKey{Name: name, SKey: skey, VKey: vkey}
	return w, tx.SetWitnessKey(ctx, w, s.now())
}

// EnsureLog opens the node's decision log if it has none yet, and returns
// the open one.
func (s *Service) EnsureLog(ctx context.Context) (DecisionLog, error) {
	var l DecisionLog
	err := s.Store.Update(ctx, func(tx Tx) error {
		var err error
		l, err = s.openLog(ctx, tx)
		return err
	})
	if err != nil {
		return DecisionLog{}, fmt.Errorf("coop: decision log: %w", err)
	}
	return l, nil
}

// BehindWitnessError is returned when the log is shorter than a size a
// witness has already cosigned: appending would fork the history that the
// federation has seen.
type BehindWitnessError struct {
	Size, Floor int64
	Witness     string
}

func (e *BehindWitnessError) Error() string {
	return fmt.Sprintf("the decision log has %d records but witness %s has seen %d: this database is older than the log the federation knows (restored from an old backup?); appending now would fork the history, so nothing is appended: restore the latest backup", e.Size, e.Witness, e.Floor)
}

// SignCheckpoint signs a checkpoint of the open log's current size if none
// is signed yet, and returns the latest signed one (its note). The commit
// that stores it is durable (synchronous=FULL), and covers every record
// committed before, so the node never serves a size it could lose.
func (s *Service) SignCheckpoint(ctx context.Context) (ledger.Checkpoint, []byte, error) {
	var c ledger.Checkpoint
	var msg []byte
	err := s.Store.UpdateDurable(ctx, func(tx Tx) error {
		l, err := s.openLog(ctx, tx)
		if err != nil {
			return err
		}
		latest, err := tx.LatestCheckpoint(ctx, l.ID)
		if err == nil && latest.Size == l.Size {
			msg = latest.Note
			c, err = ledger.PeekCheckpoint(msg)
			return err
		}
		if err != nil && !isNotFound(err) {
			return err
		}
		h, err := tlog.TreeHash(l.Size, tx.LogHashReader(ctx, l.ID))
		if err != nil {
			return fmt.Errorf("tree hash at %d: %w", l.Size, err)
		}
		signer, err := note.NewSigner(l.SKey)
		if err != nil {
			return fmt.Errorf("log key: %w", err)
		}
		c = ledger.Checkpoint{Origin: l.Origin, N: l.Size, Hash: h}
		if msg, err = ledger.SignCheckpoint(c, signer); err != nil {
			return err
		}
		return tx.SaveCheckpoint(ctx, l.ID, l.Size, msg, s.now())
	})
	if err != nil {
		return ledger.Checkpoint{}, nil, fmt.Errorf("coop: sign checkpoint: %w", err)
	}
	return c, msg, nil
}

// ErasePersonalData forgets the plain personal values (and their salts)
// behind the commitments in every record about a removed member, in every
// log of the node: the records, the tree and every checkpoint stay as they
// are, so the log still verifies, and nobody can any more tell what was
// committed. The erasure itself is a record. It returns how many values
// went.
func (s *Service) ErasePersonalData(ctx context.Context, handle string) (int64, error) {
	var erased int64
	err := s.Store.Update(ctx, func(tx Tx) error {
		m, err := tx.MemberByHandle(ctx, handle)
		if err != nil {
			return err
		}
		if !m.Removed() {
			return fmt.Errorf("%w: member %q must be removed before their personal data is erased", ErrInvalidInput, handle)
		}
		subject := s.Site.ActorID(m.Handle)
		logs, err := tx.Logs(ctx)
		if err != nil {
			return err
		}
		for _, l := range logs {
			idxs, err := tx.PersonalRecords(ctx, l.ID)
			if err != nil {
				return err
			}
			for _, idx := range idxs {
				recs, err := tx.LogRecords(ctx, l.ID, idx, idx+1)
				if err != nil {
					return err
				}
				r, err := ledger.ParseRecord(recs[0])
				if err != nil {
					return fmt.Errorf("record %d of %s: %w", idx, l.Origin, err)
				}
				if r.Subject != subject {
					continue
				}
				n, err := tx.ErasePersonal(ctx, l.ID, idx, "", s.now())
				if err != nil {
					return err
				}
				erased += n
			}
		}
		_, err = s.logEvent(ctx, tx, event{Type: "member.personal_data_erased", Subject: subject,
			Data: map[string]any{"handle": m.Handle, "values": erased}})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("coop: erase the personal data of %q: %w", handle, err)
	}
	return erased, nil
}
