package handlers

import (
	"encoding/json"
	"errors"
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
