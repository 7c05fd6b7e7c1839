package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"github.com/gorilla/mux"
)

// The decision log, served as C2SP tlog-tiles under /log/ so that existing
// tlog clients and witnesses read it: "checkpoint" (the latest signed one
// with its cosignatures), "tile/L/N" hash tiles of height 8 and
// "tile/entries/N" bundles of the records' canonical JSON. For light
// clients, also consistency proofs and receipts (C2SP tlog-proof).
func (a *app) logRoutes(r *mux.Router) {
	r.HandleFunc("/log/", a.logInfo).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/log/checkpoint", a.logCheckpoint).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/log/tile/").HandlerFunc(a.logTile).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/log/proof/consistency", a.logConsistency).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/log/receipt/{index:[0-9]+}", a.logReceipt).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/log/handover", a.logHandover).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/witness/add-checkpoint", a.addCheckpoint).Methods(http.MethodPost)
	r.HandleFunc("/witness/checkpoint", a.witnessedCheckpoint).Methods(http.MethodGet, http.MethodHead)
}

// maxAddCheckpoint bounds an add-checkpoint body: a checkpoint with its
// signatures and 63 proof hashes fit many times over.
const maxAddCheckpoint = 64 << 10

// addCheckpoint is this node's witness (C2SP tlog-witness): a federation
// member sends its new checkpoint with a consistency proof from the size
// this node last cosigned; the answer is the cosignature, or the status
// the spec gives for each refusal.
func (a *app) addCheckpoint(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAddCheckpoint))
	if err != nil {
		http.Error(w, "the request body is over 64 KiB", http.StatusRequestEntityTooLarge)
		return
	}
	line, err := a.svc.AddCheckpoint(r.Context(), body)
	var conflict *coop.SizeConflictError
	switch {
	case err == nil:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(line)
	case errors.As(err, &conflict):
		w.Header().Set("Content-Type", "text/x.tlog.size")
		w.WriteHeader(http.StatusConflict)
		fmt.Fprintf(w, "%d\n", conflict.Size)
	case errors.Is(err, coop.ErrUnknownLog):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, coop.ErrCheckpointSignature):
		http.Error(w, err.Error(), http.StatusForbidden)
	case errors.Is(err, coop.ErrBadProof):
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
	case errors.Is(err, coop.ErrInvalidInput):
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		a.log.Error("add-checkpoint failed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// witnessedCheckpoint serves the latest checkpoint this node keeps (and
// has cosigned) of a witnessed log: a node asks its witnesses for it
// before it signs, and refuses to append below it.
func (a *app) witnessedCheckpoint(w http.ResponseWriter, r *http.Request) {
	wl, err := a.svc.WitnessedLog(r.Context(), r.URL.Query().Get("origin"))
	if err != nil {
		a.textError(w, r, err)
		return
	}
	if wl.Size == 0 {
		a.textError(w, r, fmt.Errorf("%w: no checkpoint of %s kept yet", coop.ErrNotFound, wl.Origin))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(wl.Note)
}

// textError answers a log request that failed: plain text, for clients
// that are programs.
func (a *app) textError(w http.ResponseWriter, r *http.Request, err error) {
	status, reason := http.StatusInternalServerError, "internal error: the administrator can find the details in the log"
	switch {
	case errors.Is(err, coop.ErrNotFound):
		status, reason = http.StatusNotFound, err.Error()
	case errors.Is(err, coop.ErrInvalidInput):
		status, reason = http.StatusBadRequest, err.Error()
	default:
		a.log.Error("log request failed", "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(reason + "\n"))
}

// logInfo describes the log: its origin, keys, URL and size, as JSON.
func (a *app) logInfo(w http.ResponseWriter, r *http.Request) {
	info, err := a.svc.LogInfo(r.Context())
	if err != nil {
		a.textError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	json.NewEncoder(w).Encode(map[string]any{
		"origin":      info.Origin,
		"url":         info.URL,
		"key":         info.Key,
		"witness_key": info.WitnessKey,
		"witness_url": a.site.URL("/witness/"),
		"size":        info.Size,
	})
}

func (a *app) logCheckpoint(w http.ResponseWriter, r *http.Request) {
	msg, err := a.svc.SignedCheckpoint(r.Context())
	if err != nil {
		a.textError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	// The checkpoint changes with every signature: revalidate each time.
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(msg)
}

func (a *app) logTile(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/log/")
	life, err := ledger.PathLifetime(path)
	if err != nil {
		a.textError(w, r, errors.Join(coop.ErrInvalidInput, err))
		return
	}
	data, err := a.svc.LogTile(r.Context(), path)
	if err != nil {
		a.textError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	switch life {
	case ledger.Immutable:
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		// A partial tile's bytes never change, but a wider one replaces
		// it as the log grows.
		w.Header().Set("Cache-Control", "public, max-age=60")
	}
	w.Write(data)
}

func (a *app) logConsistency(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	oldN, err1 := strconv.ParseInt(q.Get("old"), 10, 64)
	newN, err2 := strconv.ParseInt(q.Get("new"), 10, 64)
	if err1 != nil || err2 != nil {
		a.textError(w, r, errors.Join(coop.ErrInvalidInput, errors.New("want ?old=N&new=M, two tree sizes")))
		return
	}
	p, err := a.svc.LogConsistency(r.Context(), oldN, newN)
	if err != nil {
		a.textError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(ledger.FormatProof(p))
}

func (a *app) logReceipt(w http.ResponseWriter, r *http.Request) {
	index, err := strconv.ParseInt(mux.Vars(r)["index"], 10, 64)
	if err != nil {
		a.textError(w, r, errors.Join(coop.ErrInvalidInput, err))
		return
	}
	rc, err := a.svc.LogReceipt(r.Context(), index)
	if err != nil {
		a.textError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(rc.Marshal())
}

// logHandover shows witnesses the way from a closed log to the next:
// ?from=ORIGIN&old=N (the size the witness kept).
func (a *app) logHandover(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	oldN, err := strconv.ParseInt(q.Get("old"), 10, 64)
	if err != nil || q.Get("from") == "" {
		a.textError(w, r, errors.Join(coop.ErrInvalidInput, errors.New("want ?from=ORIGIN&old=N")))
		return
	}
	h, err := a.svc.LogHandover(r.Context(), q.Get("from"), oldN)
	if err != nil {
		a.textError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	json.NewEncoder(w).Encode(h)
}
