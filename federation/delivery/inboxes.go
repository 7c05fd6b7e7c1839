package delivery

// Recipient is where one recipient actor takes deliveries: its inbox and,
// when its server has one, the shared inbox (endpoints.sharedInbox).
type Recipient struct {
	Inbox       string
	SharedInbox string
}

// Inboxes returns the inboxes an activity goes to: each recipient's shared
// inbox when it has one, else its own, without duplicates, in the order
// first seen. A server with many recipients so gets the activity once.
// Recipients with neither are skipped.
func Inboxes(recipients []Recipient) []string {
	seen := make(map[string]bool, len(recipients))
	var out []string
	for _, r := range recipients {
		inbox := r.SharedInbox
		if inbox == "" {
			inbox = r.Inbox
		}
		if inbox == "" || seen[inbox] {
			continue
		}
		seen[inbox] = true
		out = append(out, inbox)
	}
	return out
}
