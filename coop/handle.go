package coop

import (
	"fmt"
	"strings"
)

// MaxHandleLen is the longest handle, as on Mastodon.
const MaxHandleLen = 30

// reserved are handles no member or project may take: path segments the
// node uses, and names that would mislead ("admin" posing as the node).
var reserved = map[string]bool{
	"about": true, "account": true, "accounts": true, "activitypub": true,
	"admin": true, "administrator": true, "api": true, "apps": true,
	"assets": true, "auth": true, "coopfed": true, "decision-log": true,
	"federation": true, "healthz": true, "help": true, "inbox": true,
	"instance": true, "log": true, "login": true, "logout": true,
	"metrics": true, "nodeinfo": true, "oauth": true, "outbox": true,
	"postmaster": true, "projects": true, "proposals": true, "relay": true,
	"root": true, "settings": true, "sharedinbox": true, "signin": true,
	"signout": true, "signup": true, "static": true, "support": true,
	"system": true, "users": true, "webfinger": true, "webmaster": true,
	"well-known": true, ".well-known": true, "www": true,
}

// Reserved reports whether handle is reserved, compared without case.
func Reserved(handle string) bool { return reserved[FoldHandle(handle)] }

// FoldHandle is the form in which handles are compared: lower case.
func FoldHandle(handle string) string { return strings.ToLower(handle) }

// CheckHandle reports whether handle is well formed: 1 to 30 ASCII letters,
// digits, "_", "-" or ".", starting and ending with a letter, digit or "_".
// It does not check reservation or whether the handle is taken.
func CheckHandle(handle string) error {
	if handle == "" {
		return fmt.Errorf("%w: empty", ErrInvalidHandle)
	}
	if len(handle) > MaxHandleLen {
		return fmt.Errorf("%w: %q is longer than %d characters", ErrInvalidHandle, handle, MaxHandleLen)
	}
	for i := 0; i < len(handle); i++ {
		c := handle[i]
		word := c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if word {
			continue
		}
		if (c == '-' || c == '.') && i > 0 && i < len(handle)-1 {
			continue
		}
		return fmt.Errorf("%w: %q may hold only letters, digits, '_', and '-' or '.' inside", ErrInvalidHandle, handle)
	}
	return nil
}

// CheckNewHandle checks a handle that is about to be given out.
func CheckNewHandle(handle string) error {
	if err := CheckHandle(handle); err != nil {
		return err
	}
	if Reserved(handle) {
		return fmt.Errorf("%w: %q", ErrHandleReserved, handle)
	}
	return nil
}
