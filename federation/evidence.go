package federation

import (
	"context"
	"fmt"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// PublishEvidence implements coop.Publisher: a public Create{Note} from
// the co-op's actor, in its outbox and to its followers and the
// federation's members, saying which log showed two inconsistent
// checkpoints and why, with both signed checkpoints in full so that any
// reader can check the signatures themselves.
func (p *Publisher) PublishEvidence(ctx context.Context, tx coop.Tx, c coop.Actor, e coop.LogEvidence, at time.Time) error {
	serial, err := newID()
	if err != nil {
		return err
	}
	text := fmt.Sprintf("Decision log inconsistency: the log %s signed two checkpoints that cannot both be true (%s). This node keeps both as evidence #%d.\n\nThe checkpoint kept before:\n\n%s\nThe new checkpoint:\n\n%s",
		e.Origin, e.Reason, e.ID, e.OldNote, e.NewNote)
	post := Post{Author: c, Text: text, Published: at, Serial: serial}
	body, err := noteActivity(p.site, post)
	if err != nil {
		return err
	}
	id := post.ActivityID(p.site)
	if _, err := tx.AppendOutbox(ctx, c.ID, id, "Create", body, at); err != nil {
		return err
	}
	inboxes, err := coopAudience(ctx, tx, c)
	if err != nil {
		return err
	}
	return tx.EnqueueDeliveries(ctx, c.ID, id, body, inboxes, at)
}
