package store

import (
	"context"
	"fmt"

	"github.com/coopfed/coopfed/coop"
)

// PrepareActorRevision prepares, once, a query for the ID and Revision of
// the local actor with a given handle (compared without case, removed
// actors included; an unknown handle is ErrNotFound). Package federation
// runs it on every request for an actor's document, which it caches by
// revision: two integer columns through a prepared statement cost a
// fraction of preparing and scanning the whole row each time. The
// statement lives as long as db.
func (db *DB) PrepareActorRevision(ctx context.Context) (func(ctx context.Context, handle string) (id, revision int64, err error), error) {
	stmt, err := db.read.PrepareContext(ctx, `SELECT id, revision FROM actors WHERE handle_fold = ?`)
	if err != nil {
		return nil, fmt.Errorf("store: prepare actor revision: %w", err)
	}
	return func(ctx context.Context, handle string) (id, revision int64, err error) {
		err = stmt.QueryRowContext(ctx, coop.FoldHandle(handle)).Scan(&id, &revision)
		if err != nil {
			return 0, 0, notFound(err, fmt.Sprintf("actor %q", handle))
		}
		return id, revision, nil
	}, nil
}
