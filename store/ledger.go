package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/tlog"
)

// Log is one decision log of this node: its origin line, keys and size.
type Log = coop.DecisionLog

const logColumns = `id, origin, skey, vkey, size, floor, floor_witness, created_at, closed_at`

func scanLog(row interface{ Scan(...any) error }) (Log, error) {
	var l Log
	var created string
	var closed sql.NullString
	if err := row.Scan(&l.ID, &l.Origin, &l.SKey, &l.VKey, &l.Size, &l.Floor, &l.FloorWitness, &created, &closed); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Log{}, ErrNotFound
		}
		return Log{}, err
	}
	var err error
	if l.Created, err = parseTime(created); err != nil {
		return Log{}, err
	}
	if l.Closed, err = parseNullTime(closed); err != nil {
		return Log{}, err
	}
	l.IsClosed = closed.Valid
	return l, nil
}

// OpenLog returns the node's open decision log; ErrNotFound before one was
// created.
func (r reader) OpenLog(ctx context.Context) (Log, error) {
	l, err := scanLog(r.q.QueryRowContext(ctx, `SELECT `+logColumns+` FROM logs WHERE closed_at IS NULL`))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Log{}, fmt.Errorf("store: open log: %w", err)
	}
	return l, err
}

// LogByOrigin finds a log of this node, closed ones included.
func (r reader) LogByOrigin(ctx context.Context, origin string) (Log, error) {
	l, err := scanLog(r.q.QueryRowContext(ctx, `SELECT `+logColumns+` FROM logs WHERE origin = ?`, origin))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Log{}, fmt.Errorf("store: log %s: %w", origin, err)
	}
	return l, err
}

// Logs lists every log of this node, oldest first.
func (r reader) Logs(ctx context.Context) ([]Log, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+logColumns+` FROM logs ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: logs: %w", err)
	}
	defer rows.Close()
	var ls []Log
	for rows.Next() {
		l, err := scanLog(rows)
		if err != nil {
			return nil, fmt.Errorf("store: logs: %w", err)
		}
		ls = append(ls, l)
	}
	return ls, rows.Err()
}

// CreateLog opens a new log with the given origin and keys. There can be
// one open log only: close the old one first (in the same transaction).
func (t *Tx) CreateLog(ctx context.Context, origin, skey, vkey string, at time.Time) (Log, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO logs (origin, skey, vkey, size, created_at) VALUES (?, ?, ?, 0, ?)`,
		origin, skey, vkey, fmtTime(at))
	if err != nil {
		return Log{}, fmt.Errorf("store: create log %s: %w", origin, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Log{}, fmt.Errorf("store: create log %s: %w", origin, err)
	}
	return Log{ID: id, Origin: origin, SKey: skey, VKey: vkey, Created: at.UTC()}, nil
}

// CloseLog marks a log closed; nothing can be appended to it afterwards.
func (t *Tx) CloseLog(ctx context.Context, logID int64, at time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE logs SET closed_at = ? WHERE id = ? AND closed_at IS NULL`, fmtTime(at), logID)
	if err != nil {
		return fmt.Errorf("store: close log %d: %w", logID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("store: close log %d: %w", logID, ErrNotFound)
	}
	return nil
}

// ErrLogClosed is returned when appending to a closed log.
var ErrLogClosed = errors.New("store: the decision log is closed")

// AppendLog appends one record (its exact bytes) to the open log in this
// transaction, with the tree's new stored hashes, and returns its index.
// The record and the state change it describes commit together or not at
// all; writers are serialized by the immediate transaction, so a CLI and a
// running node appending at once get consecutive indexes.
func (t *Tx) AppendLog(ctx context.Context, logID int64, data []byte) (int64, error) {
	first, err := t.AppendLogBatch(ctx, logID, [][]byte{data})
	return first, err
}

// AppendLogBatch appends records in order and returns the index of the
// first: the right edge of the tree is read once, the hashes computed in
// memory (ledger.Hasher) and written with prepared statements.
func (t *Tx) AppendLogBatch(ctx context.Context, logID int64, records [][]byte) (int64, error) {
	var size int64
	var closed sql.NullString
	if err := t.tx.QueryRowContext(ctx, `SELECT size, closed_at FROM logs WHERE id = ?`, logID).Scan(&size, &closed); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("store: append to log %d: %w", logID, ErrNotFound)
		}
		return 0, fmt.Errorf("store: append to log %d: %w", logID, err)
	}
	if closed.Valid {
		return 0, fmt.Errorf("store: append to log %d: %w", logID, ErrLogClosed)
	}
	if len(records) == 0 {
		return size, nil
	}
	h, err := ledger.NewHasherAt(size, t.hashReader(ctx, logID))
	if err != nil {
		return 0, fmt.Errorf("store: append to log %d: %w", logID, err)
	}
	for i, data := range records {
		n := size + int64(i)
		if len(data) > ledger.MaxRecordSize {
			return 0, fmt.Errorf("store: append to log %d: record %d: %w", logID, n, ledger.ErrTooLarge)
		}
		// The writer's statement cache (txConn) prepares these once.
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO log_records (log_id, idx, data) VALUES (?, ?, ?)`, logID, n, data); err != nil {
			return 0, fmt.Errorf("store: append to log %d: record %d: %w", logID, n, err)
		}
		first := tlog.StoredHashIndex(0, n)
		for j, x := range h.Append(data) {
			if _, err := t.tx.ExecContext(ctx, `INSERT INTO log_hashes (log_id, idx, hash) VALUES (?, ?, ?)`, logID, first+int64(j), x[:]); err != nil {
				return 0, fmt.Errorf("store: append to log %d: hash %d: %w", logID, first+int64(j), err)
			}
		}
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE logs SET size = ? WHERE id = ?`, size+int64(len(records)), logID); err != nil {
		return 0, fmt.Errorf("store: append to log %d: %w", logID, err)
	}
	return size, nil
}

// SetLogFloor records that a witness has seen the log at size floor: the
// node then refuses to append while its log is shorter (a restored old
// backup). A lower floor than the one kept changes nothing.
func (t *Tx) SetLogFloor(ctx context.Context, logID, floor int64, witness string) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE logs SET floor = ?, floor_witness = ? WHERE id = ? AND floor < ?`,
		floor, witness, logID, floor); err != nil {
		return fmt.Errorf("store: log floor: %w", err)
	}
	return nil
}

// SavePersonal stores the plain value and salt behind a commitment in
// record idx.
func (t *Tx) SavePersonal(ctx context.Context, logID, idx int64, field, value string, salt []byte) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO log_personal (log_id, idx, field, value, salt) VALUES (?, ?, ?, ?, ?)`,
		logID, idx, field, value, salt); err != nil {
		return fmt.Errorf("store: personal field %s of record %d: %w", field, idx, err)
	}
	return nil
}

// ErasePersonal forgets the plain values and salts of the given field in
// every record that names it (when field is empty, every field of record
// idx); the commitments in the records stay, so the log still verifies.
// It returns how many values went.
func (t *Tx) ErasePersonal(ctx context.Context, logID, idx int64, field string, at time.Time) (int64, error) {
	q := `UPDATE log_personal SET value = NULL, salt = NULL, erased_at = ? WHERE log_id = ? AND idx = ? AND erased_at IS NULL`
	args := []any{fmtTime(at), logID, idx}
	if field != "" {
		q += ` AND field = ?`
		args = append(args, field)
	}
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("store: erase personal data of record %d: %w", idx, err)
	}
	return res.RowsAffected()
}

// PersonalRecords lists the indexes of a log's records that still have
// plain personal values.
func (r reader) PersonalRecords(ctx context.Context, logID int64) ([]int64, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT DISTINCT idx FROM log_personal WHERE log_id = ? AND erased_at IS NULL ORDER BY idx`, logID)
	if err != nil {
		return nil, fmt.Errorf("store: personal records: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var i int64
		if err := rows.Scan(&i); err != nil {
			return nil, fmt.Errorf("store: personal records: %w", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// Personal is the plain value behind one commitment of a record.
type Personal = coop.PersonalValue

// PersonalFields returns the plain values behind record idx's
// commitments, erased ones marked.
func (r reader) PersonalFields(ctx context.Context, logID, idx int64) ([]Personal, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT field, value, salt, erased_at FROM log_personal WHERE log_id = ? AND idx = ? ORDER BY field`, logID, idx)
	if err != nil {
		return nil, fmt.Errorf("store: personal fields of record %d: %w", idx, err)
	}
	defer rows.Close()
	var ps []Personal
	for rows.Next() {
		var p Personal
		var value sql.NullString
		var erased sql.NullString
		if err := rows.Scan(&p.Field, &value, &p.Salt, &erased); err != nil {
			return nil, fmt.Errorf("store: personal fields of record %d: %w", idx, err)
		}
		p.Value, p.Erased = value.String, erased.Valid
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// LogRecords returns records [from, to) of a log, in order.
func (r reader) LogRecords(ctx context.Context, logID, from, to int64) ([][]byte, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT idx, data FROM log_records WHERE log_id = ? AND idx >= ? AND idx < ? ORDER BY idx`, logID, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: log records %d-%d: %w", from, to, err)
	}
	defer rows.Close()
	out := make([][]byte, 0, max(0, min(to-from, 1024)))
	for rows.Next() {
		var idx int64
		var data []byte
		if err := rows.Scan(&idx, &data); err != nil {
			return nil, fmt.Errorf("store: log records: %w", err)
		}
		if idx != from+int64(len(out)) {
			return nil, fmt.Errorf("store: log record %d is missing", from+int64(len(out)))
		}
		out = append(out, data)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: log records: %w", err)
	}
	if int64(len(out)) != to-from {
		return nil, fmt.Errorf("store: log record %d is missing", from+int64(len(out)))
	}
	return out, nil
}

// LogRecord returns record idx of a log.
func (r reader) LogRecord(ctx context.Context, logID, idx int64) ([]byte, error) {
	var data []byte
	err := r.q.QueryRowContext(ctx, `SELECT data FROM log_records WHERE log_id = ? AND idx = ?`, logID, idx).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: log record %d: %w", idx, err)
	}
	return data, nil
}

// ReadLogHashes returns the stored hashes at the given tlog stored-hash
// indexes of a log.
func (r reader) ReadLogHashes(ctx context.Context, logID int64, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	// A run of consecutive indexes (a tile, a whole-log verify) is one
	// range scan of the primary key.
	if n := len(indexes); n > 1 && indexes[n-1]-indexes[0] == int64(n-1) {
		consecutive := true
		for i := 1; i < n; i++ {
			if indexes[i] != indexes[i-1]+1 {
				consecutive = false
				break
			}
		}
		if consecutive {
			return r.readHashRange(ctx, logID, indexes[0], out)
		}
	}
	// Proofs and appends ask for a few dozen scattered hashes. One query
	// per batch of up to 500 placeholders.
	const batch = 500
	for start := 0; start < len(indexes); start += batch {
		part := indexes[start:min(start+batch, len(indexes))]
		q := `SELECT idx, hash FROM log_hashes WHERE log_id = ? AND idx IN (?` + strings.Repeat(",?", len(part)-1) + `)`
		args := make([]any, 0, len(part)+1)
		args = append(args, logID)
		for _, i := range part {
			args = append(args, i)
		}
		rows, err := r.q.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("store: log hashes: %w", err)
		}
		got := make(map[int64][]byte, len(part))
		for rows.Next() {
			var idx int64
			var h []byte
			if err := rows.Scan(&idx, &h); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: log hashes: %w", err)
			}
			got[idx] = h
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: log hashes: %w", err)
		}
		for i, idx := range part {
			h, ok := got[idx]
			if !ok || len(h) != tlog.HashSize {
				return nil, fmt.Errorf("store: log hash %d is missing", idx)
			}
			copy(out[start+i][:], h)
		}
	}
	return out, nil
}

// readHashRange fills out with the hashes at indexes from, from+1, ...
func (r reader) readHashRange(ctx context.Context, logID, from int64, out []tlog.Hash) ([]tlog.Hash, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT idx, hash FROM log_hashes WHERE log_id = ? AND idx >= ? AND idx < ? ORDER BY idx`,
		logID, from, from+int64(len(out)))
	if err != nil {
		return nil, fmt.Errorf("store: log hashes: %w", err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var idx int64
		var h []byte
		if err := rows.Scan(&idx, &h); err != nil {
			return nil, fmt.Errorf("store: log hashes: %w", err)
		}
		if idx != from+int64(i) || len(h) != tlog.HashSize {
			return nil, fmt.Errorf("store: log hash %d is missing", from+int64(i))
		}
		copy(out[i][:], h)
		i++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: log hashes: %w", err)
	}
	if i != len(out) {
		return nil, fmt.Errorf("store: log hash %d is missing", from+int64(i))
	}
	return out, nil
}

// LogHashReader is a tlog.HashReader over a log's stored hashes; ctx is
// used for every read.
func (r reader) LogHashReader(ctx context.Context, logID int64) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return r.ReadLogHashes(ctx, logID, indexes)
	})
}

func (t *Tx) hashReader(ctx context.Context, logID int64) tlog.HashReader {
	return t.LogHashReader(ctx, logID)
}

// Checkpoint is a signed checkpoint of this node's log, with the
// cosignature lines its witnesses sent for it.
type Checkpoint = coop.LogCheckpoint

// Cosignature is one witness's signature line on a checkpoint.
type Cosignature = coop.LogCosignature

// SaveCheckpoint stores a checkpoint this node signed. Call it from
// WriteDurable, so that the size it signs is on disk before it is served.
func (t *Tx) SaveCheckpoint(ctx context.Context, logID, size int64, note []byte, at time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO log_checkpoints (log_id, size, note, signed_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (log_id, size) DO NOTHING`, logID, size, note, fmtTime(at)); err != nil {
		return fmt.Errorf("store: save checkpoint %d: %w", size, err)
	}
	return nil
}

// LatestCheckpoint returns the log's largest signed checkpoint with its
// cosignatures; ErrNotFound before the first signing.
func (r reader) LatestCheckpoint(ctx context.Context, logID int64) (Checkpoint, error) {
	return r.checkpoint(ctx, logID, `SELECT size, note, signed_at FROM log_checkpoints WHERE log_id = ? ORDER BY size DESC LIMIT 1`, logID)
}

// Checkpoints lists every checkpoint of a log this node signed, by size,
// each with its cosignatures.
func (r reader) Checkpoints(ctx context.Context, logID int64) ([]Checkpoint, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT size FROM log_checkpoints WHERE log_id = ? ORDER BY size`, logID)
	if err != nil {
		return nil, fmt.Errorf("store: checkpoints: %w", err)
	}
	var sizes []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: checkpoints: %w", err)
		}
		sizes = append(sizes, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: checkpoints: %w", err)
	}
	out := make([]Checkpoint, 0, len(sizes))
	for _, n := range sizes {
		c, err := r.CheckpointAt(ctx, logID, n)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// CheckpointAt returns the signed checkpoint of the given size.
func (r reader) CheckpointAt(ctx context.Context, logID, size int64) (Checkpoint, error) {
	return r.checkpoint(ctx, logID, `SELECT size, note, signed_at FROM log_checkpoints WHERE log_id = ? AND size = ?`, logID, size)
}

// CheckpointCovering returns the smallest signed checkpoint whose tree
// holds record idx.
func (r reader) CheckpointCovering(ctx context.Context, logID, idx int64) (Checkpoint, error) {
	return r.checkpoint(ctx, logID, `SELECT size, note, signed_at FROM log_checkpoints WHERE log_id = ? AND size > ? ORDER BY size LIMIT 1`, logID, idx)
}

func (r reader) checkpoint(ctx context.Context, logID int64, q string, args ...any) (Checkpoint, error) {
	c := Checkpoint{LogID: logID}
	var signed string
	err := r.q.QueryRowContext(ctx, q, args...).Scan(&c.Size, &c.Note, &signed)
	if errors.Is(err, sql.ErrNoRows) {
		return Checkpoint{}, ErrNotFound
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("store: checkpoint: %w", err)
	}
	if c.Signed, err = parseTime(signed); err != nil {
		return Checkpoint{}, fmt.Errorf("store: checkpoint: %w", err)
	}
	rows, err := r.q.QueryContext(ctx, `SELECT witness, line, received_at FROM log_cosignatures WHERE log_id = ? AND size = ? ORDER BY witness`, logID, c.Size)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("store: cosignatures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cs Cosignature
		var at string
		if err := rows.Scan(&cs.Witness, &cs.Line, &at); err != nil {
			return Checkpoint{}, fmt.Errorf("store: cosignatures: %w", err)
		}
		if cs.Received, err = parseTime(at); err != nil {
			return Checkpoint{}, fmt.Errorf("store: cosignatures: %w", err)
		}
		c.Cosignatures = append(c.Cosignatures, cs)
	}
	return c, rows.Err()
}

// CosignedSize is the largest size of a log that a witness (by key name)
// cosigned; 0 when none.
func (r reader) CosignedSize(ctx context.Context, logID int64, witness string) (int64, error) {
	var n sql.NullInt64
	if err := r.q.QueryRowContext(ctx, `SELECT max(size) FROM log_cosignatures WHERE log_id = ? AND witness = ?`, logID, witness).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: cosigned size: %w", err)
	}
	return n.Int64, nil
}

// SaveCosignature stores (or replaces) a witness's cosignature line of the
// checkpoint of the given size.
func (t *Tx) SaveCosignature(ctx context.Context, logID, size int64, witness, line string, at time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO log_cosignatures (log_id, size, witness, line, received_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (log_id, size, witness) DO UPDATE SET line = excluded.line, received_at = excluded.received_at`,
		logID, size, witness, line, fmtTime(at)); err != nil {
		return fmt.Errorf("store: save cosignature of %s: %w", witness, err)
	}
	return nil
}

// UpdateDurable implements coop.Store with WriteDurable.
func (db *DB) UpdateDurable(ctx context.Context, fn func(coop.Tx) error) error {
	return db.WriteDurable(ctx, func(t *Tx) error { return fn(t) })
}

// WriteDurable is Write with SQLite's synchronous=FULL for its commit: in
// WAL mode the commit fsyncs the log file, and with it every transaction
// committed before, so what fn reads is on disk once it returns. The node
// signs checkpoints this way and so never signs a size a power cut could
// take back.
func (db *DB) WriteDurable(ctx context.Context, fn func(*Tx) error) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: durable write: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous=FULL`); err != nil {
		return fmt.Errorf("store: durable write: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous=NORMAL`)
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	return db.run(sqlTx, fn)
}

// WitnessKey is this node's key for cosigning the logs it witnesses.
type WitnessKey = coop.WitnessKey

// WitnessKey returns the node's witness key; ErrNotFound before one was
// made.
func (r reader) WitnessKey(ctx context.Context) (WitnessKey, error) {
	var k WitnessKey
	err := r.q.QueryRowContext(ctx, `SELECT name, skey, vkey FROM witness_key WHERE id = 1`).Scan(&k.Name, &k.SKey, &k.VKey)
	if errors.Is(err, sql.ErrNoRows) {
		return WitnessKey{}, ErrNotFound
	}
	if err != nil {
		return WitnessKey{}, fmt.Errorf("store: witness key: %w", err)
	}
	return k, nil
}

// SetWitnessKey stores the node's witness key, once.
func (t *Tx) SetWitnessKey(ctx context.Context, k WitnessKey, at time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO witness_key (id, name, skey, vkey, created_at) VALUES (1, ?, ?, ?, ?)`,
		k.Name, k.SKey, k.VKey, fmtTime(at)); err != nil {
		return fmt.Errorf("store: witness key: %w", err)
	}
	return nil
}

// Witnessed is a log this node witnesses, with the latest checkpoint it
// keeps of it.
type Witnessed = coop.WitnessedLog

const witnessedColumns = `origin, peer, log_url, vkey, witness_vkey, size, hash, note, updated_at, retired_at`

func scanWitnessed(row interface{ Scan(...any) error }) (Witnessed, error) {
	var w Witnessed
	var h []byte
	var at string
	var retired sql.NullString
	if err := row.Scan(&w.Origin, &w.Peer, &w.URL, &w.VKey, &w.WitnessVKey, &w.Size, &h, &w.Note, &at, &retired); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Witnessed{}, ErrNotFound
		}
		return Witnessed{}, err
	}
	copy(w.Hash[:], h)
	var err error
	if w.Updated, err = parseTime(at); err != nil {
		return Witnessed{}, err
	}
	w.Retired = retired.Valid
	return w, nil
}

// WitnessedLog returns the log of origin that this node witnesses;
// ErrNotFound when it witnesses none by that origin.
func (r reader) WitnessedLog(ctx context.Context, origin string) (Witnessed, error) {
	w, err := scanWitnessed(r.q.QueryRowContext(ctx, `SELECT `+witnessedColumns+` FROM witnessed WHERE origin = ?`, origin))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Witnessed{}, fmt.Errorf("store: witnessed %s: %w", origin, err)
	}
	return w, err
}

// WitnessedLogs lists every log this node witnesses.
func (r reader) WitnessedLogs(ctx context.Context) ([]Witnessed, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+witnessedColumns+` FROM witnessed ORDER BY origin`)
	if err != nil {
		return nil, fmt.Errorf("store: witnessed: %w", err)
	}
	defer rows.Close()
	var ws []Witnessed
	for rows.Next() {
		w, err := scanWitnessed(rows)
		if err != nil {
			return nil, fmt.Errorf("store: witnessed: %w", err)
		}
		ws = append(ws, w)
	}
	return ws, rows.Err()
}

// PinWitnessed starts witnessing a log: its keys, as first read from its
// node. A log witnessed already keeps its pinned keys (ErrPeerExists is
// not returned; the row is left as it is).
func (t *Tx) PinWitnessed(ctx context.Context, w Witnessed) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO witnessed (`+witnessedColumns+`) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, NULL)
		ON CONFLICT (origin) DO NOTHING`,
		w.Origin, w.Peer, w.URL, w.VKey, w.WitnessVKey, make([]byte, 32), []byte{}, fmtTime(w.Updated)); err != nil {
		return fmt.Errorf("store: witness %s: %w", w.Origin, err)
	}
	return nil
}

// KeepWitnessed stores a newer checkpoint of a witnessed log (the caller
// has checked that it is consistent with the kept one).
func (t *Tx) KeepWitnessed(ctx context.Context, origin string, size int64, hash [32]byte, note []byte, at time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE witnessed SET size = ?, hash = ?, note = ?, updated_at = ? WHERE origin = ? AND size <= ?`,
		size, hash[:], note, fmtTime(at), origin, size)
	if err != nil {
		return fmt.Errorf("store: keep checkpoint of %s: %w", origin, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("store: keep checkpoint %d of %s: not witnessed, or a larger one is kept", size, origin)
	}
	return nil
}

// RetireWitnessed marks a witnessed log retired: its member rotated to a
// next log, witnessed from now on.
func (t *Tx) RetireWitnessed(ctx context.Context, origin string, at time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE witnessed SET retired_at = ? WHERE origin = ? AND retired_at IS NULL`, fmtTime(at), origin); err != nil {
		return fmt.Errorf("store: retire %s: %w", origin, err)
	}
	return nil
}

// UnpinWitnessed stops witnessing a log (its member left the
// federation); evidence against it stays.
func (t *Tx) UnpinWitnessed(ctx context.Context, peer string) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM witnessed WHERE peer = ?`, peer); err != nil {
		return fmt.Errorf("store: stop witnessing %s: %w", peer, err)
	}
	return nil
}

// Evidence is a pair of inconsistent signed checkpoints of one log.
type Evidence = coop.LogEvidence

// SaveEvidence keeps a pair of inconsistent checkpoints for good and
// returns its id; a pair kept already returns 0.
func (t *Tx) SaveEvidence(ctx context.Context, e Evidence) (int64, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO log_evidence (origin, old_note, new_note, reason, found_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (origin, old_note, new_note) DO NOTHING`,
		e.Origin, e.OldNote, e.NewNote, e.Reason, fmtTime(e.Found))
	if err != nil {
		return 0, fmt.Errorf("store: evidence against %s: %w", e.Origin, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, nil
	}
	return res.LastInsertId()
}

// EvidenceList lists the inconsistencies found, newest first.
func (r reader) EvidenceList(ctx context.Context) ([]Evidence, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, origin, old_note, new_note, reason, found_at FROM log_evidence ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: evidence: %w", err)
	}
	defer rows.Close()
	var es []Evidence
	for rows.Next() {
		var e Evidence
		var at string
		if err := rows.Scan(&e.ID, &e.Origin, &e.OldNote, &e.NewNote, &e.Reason, &at); err != nil {
			return nil, fmt.Errorf("store: evidence: %w", err)
		}
		if e.Found, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("store: evidence: %w", err)
		}
		es = append(es, e)
	}
	return es, rows.Err()
}

// Backup writes a consistent copy of the whole database to path with
// VACUUM INTO, while the node runs: readers and the writer go on. The file
// is created with mode 0600 first, since it holds every private key (the
// actors', the log's, the witness's). path must not exist.
func (db *DB) Backup(ctx context.Context, path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	f.Close()
	if _, err := db.write.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	return nil
}
