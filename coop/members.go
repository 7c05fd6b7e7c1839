package coop

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"

	"github.com/alexedwards/argon2id"
)

// NewMember is what an admin gives to add a member.
type NewMember struct {
	Handle      string
	DisplayName string
	Email       string
	Role        Role
}

// passwordParams are argon2id's parameters for member passwords: RFC 9106's
// second recommended option (64 MiB, 3 passes), with 2 lanes for 2 cores.
var passwordParams = &argon2id.Params{
	Memory:      64 * 1024,
	Iterations:  3,
	Parallelism: 2,
	SaltLength:  16,
	KeyLength:   32,
}

// oneTimePassword makes a password of 100 random bits, in lower-case
// base32 cut into groups of five so that it can be read out and typed.
func (s *Service) oneTimePassword() (string, error) {
	b := make([]byte, 13)
	if _, err := io.ReadFull(s.rand(), b); err != nil {
		return "", fmt.Errorf("password: %w", err)
	}
	raw := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:20]
	return raw[0:5] + "-" + raw[5:10] + "-" + raw[10:15] + "-" + raw[15:20], nil
}

// hashPassword hashes a password with argon2id; only the hash is stored.
func hashPassword(password string) (string, error) {
	h, err := argon2id.CreateHash(password, passwordParams)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// CheckPassword reports whether password matches the stored hash.
func CheckPassword(password, hash string) (bool, error) {
	return argon2id.ComparePasswordAndHash(password, hash)
}

func checkEmail(email string) error {
	if email == "" {
		return nil
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email {
		return fmt.Errorf("%w: email %q is not a plain address like name@example.org", ErrInvalidInput, email)
	}
	return nil
}

// AddMember creates a member with a fresh key pair and a one-time password,
// which it returns; only the password's argon2id hash is stored.
func (s *Service) AddMember(ctx context.Context, n NewMember) (Member, string, error) {
	if n.Role == "" {
		n.Role = RoleMember
	}
	if _, err := ParseRole(string(n.Role)); err != nil {
		return Member{}, "", err
	}
	if err := checkEmail(n.Email); err != nil {
		return Member{}, "", err
	}
	a, priv, err := s.newActor(KindPerson, n.Handle, strings.TrimSpace(n.DisplayName), "")
	if err != nil {
		return Member{}, "", err
	}
	password, err := s.oneTimePassword()
	if err != nil {
		return Member{}, "", err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return Member{}, "", err
	}
	m := Member{Actor: a, Email: n.Email, Role: n.Role, MustChangePassword: true}
	err = s.Store.Update(ctx, func(tx Tx) error {
		if err := s.requireAdmin(ctx, tx); err != nil {
			return err
		}
		a, err := tx.InsertActor(ctx, m.Actor, priv)
		if err != nil {
			return err
		}
		m.Actor = a
		if err := tx.InsertMember(ctx, m, hash); err != nil {
			return err
		}
		// The display name is personal data: it goes in as a commitment,
		// erasable; the handle is the member's public address.
		state, err := s.memberState(ctx, tx)
		if err != nil {
			return err
		}
		_, err = s.logEvent(ctx, tx, event{
			State:    state,
			Type:     "member.admitted",
			Subject:  s.Site.ActorID(a.Handle),
			Data:     map[string]any{"handle": a.Handle, "role": string(m.Role)},
			Personal: map[string]string{"name": a.Name},
		})
		return err
	})
	if err != nil {
		return Member{}, "", fmt.Errorf("coop: add member %q: %w", n.Handle, err)
	}
	return m, password, nil
}

// Members lists the live members.
func (s *Service) Members(ctx context.Context) ([]Member, error) {
	return s.Store.Members(ctx)
}

// liveMember finds a live member inside a transaction.
func liveMember(ctx context.Context, r Reader, handle string) (Member, error) {
	m, err := r.MemberByHandle(ctx, handle)
	if err != nil {
		if isNotFound(err) {
			return Member{}, fmt.Errorf("%w: no member %q", ErrNotMember, handle)
		}
		return Member{}, err
	}
	if m.Removed() {
		return Member{}, fmt.Errorf("%w: member %q was removed", ErrGone, handle)
	}
	return m, nil
}

// RemoveMember removes a member. The actor then answers 410 Gone with a
// Tombstone, and the handle is never given out again.
func (s *Service) RemoveMember(ctx context.Context, handle string) error {
	err := s.Store.Update(ctx, func(tx Tx) error {
		if err := s.requireAdmin(ctx, tx); err != nil {
			return err
		}
		m, err := liveMember(ctx, tx, handle)
		if err != nil {
			return err
		}
		if err := keepAnAdmin(ctx, tx, m, "remove"); err != nil {
			return err
		}
		if err := tx.RemoveActor(ctx, m.ID, s.now()); err != nil {
			return err
		}
		if err := revokeSessions(ctx, tx, m.ID); err != nil {
			return err
		}
		state, err := s.memberState(ctx, tx)
		if err != nil {
			return err
		}
		_, err = s.logEvent(ctx, tx, event{Type: "member.removed", Subject: s.Site.ActorID(m.Handle), Data: map[string]any{"handle": m.Handle}, State: state})
		return err
	})
	if err != nil {
		return fmt.Errorf("coop: remove member %q: %w", handle, err)
	}
	return nil
}

// keepAnAdmin refuses to remove or demote (what) the co-op's last live
// admin member: the co-op would have nobody to run it from the web. The
// operator too is refused, and can make another member admin first.
func keepAnAdmin(ctx context.Context, r Reader, m Member, what string) error {
	if m.Role != RoleAdmin {
		return nil
	}
	ms, err := r.Members(ctx)
	if err != nil {
		return err
	}
	for _, o := range ms {
		if o.Role == RoleAdmin && o.ID != m.ID {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is the co-op's last admin and cannot be %s; make another member admin first", ErrNotAllowed, m.Handle, what)
}

// SetRole gives a live member another role. The co-op's last admin
// cannot become a plain member; a role the member has already is an
// ErrInvalidInput error.
func (s *Service) SetRole(ctx context.Context, handle string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return fmt.Errorf("coop: set role of %q: %w", handle, err)
	}
	err := s.Store.Update(ctx, func(tx Tx) error {
		if err := s.requireAdmin(ctx, tx); err != nil {
			return err
		}
		m, err := liveMember(ctx, tx, handle)
		if err != nil {
			return err
		}
		if m.Role == role {
			return fmt.Errorf("%w: %s is %s already", ErrInvalidInput, m.Handle, roleWords(role))
		}
		if err := keepAnAdmin(ctx, tx, m, "made a plain member"); err != nil {
			return err
		}
		if err := tx.SetMemberRole(ctx, m.ID, role); err != nil {
			return err
		}
		state, err := s.memberState(ctx, tx)
		if err != nil {
			return err
		}
		_, err = s.logEvent(ctx, tx, event{
			Type:    "member.role_changed",
			Subject: s.Site.ActorID(m.Handle),
			Data:    map[string]any{"handle": m.Handle, "role": string(role), "previous_role": string(m.Role)},
			State:   state,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("coop: set role of %q: %w", handle, err)
	}
	return nil
}

func roleWords(r Role) string {
	if r == RoleAdmin {
		return "an admin"
	}
	return "a plain member"
}

// MembersForAdmin lists the live members with what only an admin sees:
// their email address (personal data), role, whether they still hold
// the one-time password, and since when they are members.
func (s *Service) MembersForAdmin(ctx context.Context) ([]Member, error) {
	if err := s.requireAdmin(ctx, s.Store); err != nil {
		return nil, fmt.Errorf("coop: members for an admin: %w", err)
	}
	ms, err := s.Store.Members(ctx)
	if err != nil {
		return nil, fmt.Errorf("coop: members for an admin: %w", err)
	}
	return ms, nil
}

// ResetPassword gives a member a new one-time password and returns it.
func (s *Service) ResetPassword(ctx context.Context, handle string) (string, error) {
	password, err := s.oneTimePassword()
	if err != nil {
		return "", err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return "", err
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		if err := s.requireAdmin(ctx, tx); err != nil {
			return err
		}
		m, err := liveMember(ctx, tx, handle)
		if err != nil {
			return err
		}
		if err := tx.SetPassword(ctx, m.ID, hash, true); err != nil {
			return err
		}
		return revokeSessions(ctx, tx, m.ID)
	})
	if err != nil {
		return "", fmt.Errorf("coop: reset password of %q: %w", handle, err)
	}
	return password, nil
}

// ErrBadPassword is a password that does not match.
var ErrBadPassword = errors.New("wrong password")

// ErrMustChangePassword is a member who still holds the one-time password
// the admin gave them: the admin knows it too, so what is done with it
// cannot be told from the admin acting, and it does not act as the
// member (no vote, no proposal) until the member sets their own.
var ErrMustChangePassword = errors.New("the one-time password must be changed first (coopfed member password --as NAME)")

// Authenticate checks a member's password and returns the principal the
// member acts as: their actor URI, over channel.
func (s *Service) Authenticate(ctx context.Context, handle, password, channel string) (Principal, error) {
	m, err := s.checkPassword(ctx, handle, password)
	if err != nil {
		return Principal{}, err
	}
	if m.MustChangePassword {
		return Principal{}, fmt.Errorf("coop: sign in as %q: %w", handle, ErrMustChangePassword)
	}
	return Principal{ID: s.Site.ActorID(m.Handle), Channel: channel}, nil
}

func (s *Service) checkPassword(ctx context.Context, handle, password string) (Member, error) {
	m, err := liveMember(ctx, s.Store, handle)
	if err != nil {
		return Member{}, fmt.Errorf("coop: sign in as %q: %w", handle, err)
	}
	hash, err := s.Store.MemberPasswordHash(ctx, m.ID)
	if err != nil {
		return Member{}, fmt.Errorf("coop: sign in as %q: %w", handle, err)
	}
	ok, err := CheckPassword(password, hash)
	if err != nil {
		return Member{}, fmt.Errorf("coop: sign in as %q: %w", handle, err)
	}
	if !ok {
		return Member{}, fmt.Errorf("coop: sign in as %q: %w", handle, ErrBadPassword)
	}
	return m, nil
}

// MinPasswordLength is the shortest password a member may set.
const MinPasswordLength = 12

// ChangePassword sets a member's own password, given their current one
// (the one-time password included).
func (s *Service) ChangePassword(ctx context.Context, handle, current, next string) error {
	if len(next) < MinPasswordLength {
		return fmt.Errorf("%w: a password has at least %d characters", ErrInvalidInput, MinPasswordLength)
	}
	if next == current {
		return fmt.Errorf("%w: the new password is the current one", ErrInvalidInput)
	}
	m, err := s.checkPassword(ctx, handle, current)
	if err != nil {
		return err
	}
	hash, err := hashPassword(next)
	if err != nil {
		return err
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		if err := tx.SetPassword(ctx, m.ID, hash, false); err != nil {
			return err
		}
		// Every session ends: whoever held the old password signs in again.
		return revokeSessions(ctx, tx, m.ID)
	})
	if err != nil {
		return fmt.Errorf("coop: change password of %q: %w", handle, err)
	}
	return nil
}
