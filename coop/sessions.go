package coop

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/coopfed/coopfed/ledger"
)

// Web sessions (issue 9): a member signs in with their password; the
// browser holds a random token in a cookie, the node a hash of it, so
// that a stolen database opens no session and every session of a member
// can be revoked: when they sign out, change their password or are
// removed. A member who signs in with the one-time password the admin
// gave them gets a session that can only change it (MustChange).

// SessionTTL is how long a session lasts without being used; each use
// extends it, up to SessionMaxAge from its start.
const (
	SessionTTL    = 7 * 24 * time.Hour
	SessionMaxAge = 30 * 24 * time.Hour
)

// sessionTouchEvery is how stale last_seen may get before a request
// writes it again (not one write per page view).
const sessionTouchEvery = time.Hour

// ErrNoSession is a cookie that opens no live session.
var ErrNoSession = errors.New("not signed in")

// Session is a member's web session as the node keeps it.
type Session struct {
	TokenHash  string
	MemberID   int64
	CSRF       string // the token every form of the session carries
	MustChange bool   // signed in with a one-time password
	Created    time.Time
	LastSeen   time.Time
	Expires    time.Time
}

// SessionReader holds the reads of sessions.
type SessionReader interface {
	// Session finds a session by its token's hash.
	Session(ctx context.Context, tokenHash string) (Session, error)
}

// SessionWriter holds the writes of sessions.
type SessionWriter interface {
	InsertSession(ctx context.Context, s Session) error
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteSessionsOf revokes every session of a member.
	DeleteSessionsOf(ctx context.Context, memberID int64) (int64, error)
	TouchSession(ctx context.Context, tokenHash string, seen, expires time.Time) error
}

func sessionHash(token string) string {
	h := sha256.Sum256([]byte("coopfed session\x00" + token))
	return hex.EncodeToString(h[:])
}

// randomToken is 32 random bytes, base64url.
func (s *Service) randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := s.rand().Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// SignIn checks a member's password and opens a session: the token for
// the cookie, and the session. A one-time password opens a session that
// only changes it (MustChange).
func (s *Service) SignIn(ctx context.Context, handle, password string) (string, Session, error) {
	m, err := s.checkPassword(ctx, handle, password)
	if err != nil {
		return "", Session{}, err
	}
	token, err := s.randomToken()
	if err != nil {
		return "", Session{}, err
	}
	csrf, err := s.randomToken()
	if err != nil {
		return "", Session{}, err
	}
	now := s.now()
	sess := Session{TokenHash: sessionHash(token), MemberID: m.ID, CSRF: csrf, MustChange: m.MustChangePassword,
		Created: now, LastSeen: now, Expires: now.Add(SessionTTL)}
	if err := s.Store.Update(ctx, func(tx Tx) error { return tx.InsertSession(ctx, sess) }); err != nil {
		return "", Session{}, fmt.Errorf("coop: sign in as %q: %w", handle, err)
	}
	return token, sess, nil
}

// SessionMember returns the live member a session token opens, the
// session, and the principal its requests act as (over the web channel;
// none while the one-time password must be changed). An unknown,
// expired or revoked token, or a removed member, is ErrNoSession.
func (s *Service) SessionMember(ctx context.Context, token string) (Member, Session, error) {
	if token == "" {
		return Member{}, Session{}, ErrNoSession
	}
	sess, err := s.Store.Session(ctx, sessionHash(token))
	if isNotFound(err) {
		return Member{}, Session{}, ErrNoSession
	}
	if err != nil {
		return Member{}, Session{}, err
	}
	now := s.now()
	if !now.Before(sess.Expires) {
		return Member{}, Session{}, ErrNoSession
	}
	m, ok, err := memberByID(ctx, s.Store, sess.MemberID)
	if err != nil {
		return Member{}, Session{}, err
	}
	if !ok {
		return Member{}, Session{}, ErrNoSession
	}
	if now.Sub(sess.LastSeen) >= sessionTouchEvery {
		sess.LastSeen = now
		sess.Expires = minTime(now.Add(SessionTTL), sess.Created.Add(SessionMaxAge))
		if err := s.Store.Update(ctx, func(tx Tx) error { return tx.TouchSession(ctx, sess.TokenHash, sess.LastSeen, sess.Expires) }); err != nil {
			return Member{}, Session{}, err
		}
	}
	return m, sess, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// WebPrincipal is the principal a session's requests act as.
func (s *Service) WebPrincipal(m Member) Principal {
	return Principal{ID: s.Site.ActorID(m.Handle), Channel: ledger.ChannelWeb}
}

// SignOut ends the session of token.
func (s *Service) SignOut(ctx context.Context, token string) error {
	return s.Store.Update(ctx, func(tx Tx) error { return tx.DeleteSession(ctx, sessionHash(token)) })
}

// revokeSessions ends every session of a member inside tx.
func revokeSessions(ctx context.Context, tx Tx, memberID int64) error {
	_, err := tx.DeleteSessionsOf(ctx, memberID)
	return err
}

// NewFormToken makes a random token for a form shown before sign-in
// (bound to a cookie of its own: login CSRF).
func (s *Service) NewFormToken() (string, error) { return s.randomToken() }
