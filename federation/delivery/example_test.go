package delivery_test

import (
	"fmt"

	"github.com/coopfed/coopfed/federation/delivery"
)

func ExampleInboxes() {
	// Two followers on one server share its inbox; a third server has none.
	inboxes := delivery.Inboxes([]delivery.Recipient{
		{Inbox: "https://social.example/users/ann/inbox", SharedInbox: "https://social.example/inbox"},
		{Inbox: "https://social.example/users/bo/inbox", SharedInbox: "https://social.example/inbox"},
		{Inbox: "https://small.example/actor/inbox"},
	})
	for _, inbox := range inboxes {
		fmt.Println(inbox)
	}
	// Output:
	// https://social.example/inbox
	// https://small.example/actor/inbox
}
