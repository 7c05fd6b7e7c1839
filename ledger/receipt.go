package ledger

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Errors of receipts.
var (
	ErrReceipt   = errors.New("ledger: malformed receipt")
	ErrInclusion = errors.New("ledger: record is not in the receipt's checkpoint")
)

// A Receipt shows that a record is in the log: the record, its index, its
// inclusion proof, and the signed checkpoint (with cosignatures) that the
// proof leads to. Every vote gets one.
type Receipt struct {
	Index      int64
	Record     []byte
	Proof      tlog.RecordProof
	Checkpoint []byte // the signed note, with its cosignatures
}

const receiptHeader = "c2sp.org/tlog-proof@v1\n"

// Marshal writes r in the c2sp.org/tlog-proof@v1 text format, with the
// record as the "extra" data:
//
//	c2sp.org/tlog-proof@v1
//	extra <base64 record>
//	index <index>
//	<base64 hash of the inclusion proof, one per line>
//
//	<signed checkpoint>
//
// The extra data is not trusted: VerifyReceipt hashes it and checks its
// inclusion.
func (r Receipt) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(receiptHeader)
	b.WriteString("extra ")
	b.WriteString(base64.StdEncoding.EncodeToString(r.Record))
	b.WriteString("\nindex ")
	b.WriteString(strconv.FormatInt(r.Index, 10))
	b.WriteByte('\n')
	b.Write(FormatProof(r.Proof))
	b.WriteByte('\n')
	b.Write(r.Checkpoint)
	return b.Bytes()
}

// maxReceiptSize bounds a receipt: a record, 63 hashes, and a checkpoint
// with up to 100 signatures.
const maxReceiptSize = 1 << 20

// ParseReceipt parses Marshal's text. It checks the form only; use
// VerifyReceipt.
func ParseReceipt(b []byte) (Receipt, error) {
	if len(b) > maxReceiptSize {
		return Receipt{}, fmt.Errorf("%w: too large", ErrReceipt)
	}
	s, ok := strings.CutPrefix(string(b), receiptHeader)
	if !ok {
		return Receipt{}, fmt.Errorf("%w: no %q line", ErrReceipt, strings.TrimSpace(receiptHeader))
	}
	line, s, _ := strings.Cut(s, "\n")
	ex, ok := strings.CutPrefix(line, "extra ")
	if !ok {
		return Receipt{}, fmt.Errorf("%w: no extra line with the record", ErrReceipt)
	}
	record, err := decodeBase64(ex)
	if err != nil || len(record) > MaxRecordSize {
		return Receipt{}, fmt.Errorf("%w: bad record", ErrReceipt)
	}
	line, s, _ = strings.Cut(s, "\n")
	is, ok := strings.CutPrefix(line, "index ")
	if !ok {
		return Receipt{}, fmt.Errorf("%w: no index line", ErrReceipt)
	}
	index, err := strconv.ParseInt(is, 10, 64)
	if err != nil || index < 0 || strconv.FormatInt(index, 10) != is {
		return Receipt{}, fmt.Errorf("%w: bad index %q", ErrReceipt, truncate(is))
	}
	var p tlog.RecordProof
	for {
		line, rest, ok := strings.Cut(s, "\n")
		if !ok {
			return Receipt{}, fmt.Errorf("%w: no checkpoint", ErrReceipt)
		}
		s = rest
		if line == "" {
			break
		}
		h, err := parseHash(line)
		if err != nil {
			return Receipt{}, fmt.Errorf("%w: %v", ErrReceipt, err)
		}
		if len(p) == 63 {
			return Receipt{}, fmt.Errorf("%w: inclusion proof of more than 63 hashes", ErrReceipt)
		}
		p = append(p, h)
	}
	if p == nil {
		p = tlog.RecordProof{}
	}
	return Receipt{Index: index, Record: record, Proof: p, Checkpoint: []byte(s)}, nil
}

// A CosignatureError says a checkpoint has too few witness cosignatures.
type CosignatureError struct {
	Have, Need int
}

func (e *CosignatureError) Error() string {
	return fmt.Sprintf("ledger: checkpoint has %d valid witness cosignatures, %d needed", e.Have, e.Need)
}

// VerifyReceipt checks a receipt offline, against its own checkpoint, as
// c2sp.org/tlog-proof says: the checkpoint is the log's (origin), signed
// by its key (ErrLogSignature, ErrSignature), cosigned by at least
// minCosignatures of witnesses (*CosignatureError), and the record is at
// the index in it (ErrInclusion). It returns the opened checkpoint.
//
// A receipt stays valid as the log grows: its checkpoint is a prefix of
// every later one. To check that a later checkpoint still holds the
// record, check the later one against the receipt's with a consistency
// proof (CheckAdvance), or get a new inclusion proof at the later size.
func VerifyReceipt(r Receipt, origin string, logKey note.Verifier, witnesses []note.Verifier, minCosignatures int) (*SignedCheckpoint, error) {
	sc, err := OpenCheckpoint(r.Checkpoint, origin, logKey, witnesses)
	if err != nil {
		return nil, fmt.Errorf("ledger: receipt checkpoint: %w", err)
	}
	if len(sc.Cosignatures) < minCosignatures {
		return nil, &CosignatureError{Have: len(sc.Cosignatures), Need: minCosignatures}
	}
	if r.Index < 0 || r.Index >= sc.N {
		return nil, fmt.Errorf("%w: index %d, tree size %d", ErrInclusion, r.Index, sc.N)
	}
	if err := tlog.CheckRecord(r.Proof, sc.N, sc.Hash, r.Index, tlog.RecordHash(r.Record)); err != nil {
		return nil, fmt.Errorf("%w: index %d, tree size %d", ErrInclusion, r.Index, sc.N)
	}
	return sc, nil
}
