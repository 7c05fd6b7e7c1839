package coop

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"time"
)

// KeyBits is the size of every actor's RSA key, as the fediverse expects.
const KeyBits = 2048

// Service runs the use cases. Its zero value is not usable: set Store and
// Site; Clock and Rand default to the system's.
type Service struct {
	Store    Store
	Site     Site
	Resolver Resolver // finds remote maintainers; nil refuses them
	// Publisher records and queues activities; nil refuses to publish
	// (the CLI's read-only commands need none).
	Publisher Publisher
	Clock     func() time.Time
	Rand      io.Reader
	// OnEvidence, when set, is told of every inconsistent checkpoint
	// found (a metric, a log line).
	OnEvidence func(LogEvidence)
}

// now is the service's clock, to the microsecond that the store keeps.
func (s *Service) now() time.Time {
	now := time.Now
	if s.Clock != nil {
		now = s.Clock
	}
	return now().UTC().Truncate(time.Microsecond)
}

func (s *Service) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return rand.Reader
}

// newKeyPair makes an actor's RSA key pair: the public half as PKIX PEM
// (what actor documents publish) and the private half as PKCS#8 PEM.
func (s *Service) newKeyPair() (public, private string, err error) {
	key, err := rsa.GenerateKey(s.rand(), KeyBits)
	if err != nil {
		return "", "", fmt.Errorf("generate key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", fmt.Errorf("encode public key: %w", err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("encode private key: %w", err)
	}
	public = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	private = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}))
	return public, private, nil
}

// newActor builds a live actor with a fresh key pair; the caller inserts it.
func (s *Service) newActor(kind Kind, handle, name, summary string) (Actor, string, error) {
	if err := CheckNewHandle(handle); err != nil {
		return Actor{}, "", err
	}
	pub, priv, err := s.newKeyPair()
	if err != nil {
		return Actor{}, "", err
	}
	now := s.now()
	if name == "" {
		name = handle
	}
	return Actor{
		Kind:         kind,
		Handle:       handle,
		Name:         name,
		Summary:      summary,
		PublicKeyPEM: pub,
		Discoverable: true,
		CreatedAt:    now,
		UpdatedAt:    now,
		Revision:     1,
	}, priv, nil
}

// EnsureCoop creates the co-op's Organization actor on first start, and
// brings its name and summary in line with the configuration afterwards.
// The handle of an existing co-op never changes: peers know it by it.
func (s *Service) EnsureCoop(ctx context.Context, handle, name, summary string) (Actor, error) {
	var out Actor
	err := s.Store.Update(ctx, func(tx Tx) error {
		// The decision log (and the witness key) come with the co-op.
		var behind *BehindWitnessError
		if _, err := s.openLog(ctx, tx); err != nil && !errors.As(err, &behind) {
			return err
		}
		a, err := tx.Coop(ctx)
		switch {
		case err == nil:
			if a.Name != name || a.Summary != summary {
				if err := tx.UpdateActorProfile(ctx, a.ID, name, summary, s.now()); err != nil {
					return err
				}
				a, err = tx.Coop(ctx)
				if err != nil {
					return err
				}
				if s.Publisher != nil {
					if err := s.Publisher.PublishActorUpdate(ctx, tx, a, s.now()); err != nil {
						return err
					}
				}
			}
			out = a
			return nil
		case !isNotFound(err):
			return err
		}
		a, priv, err := s.newActor(KindOrganization, handle, name, summary)
		if err != nil {
			return err
		}
		out, err = tx.InsertActor(ctx, a, priv)
		return err
	})
	if err != nil {
		return Actor{}, fmt.Errorf("coop: ensure co-op actor: %w", err)
	}
	return out, nil
}

// Actor finds a local actor by handle. A removed actor is returned with
// ErrGone, so that callers can answer with a Tombstone.
func (s *Service) Actor(ctx context.Context, handle string) (Actor, error) {
	a, err := s.Store.ActorByHandle(ctx, handle)
	if err != nil {
		return Actor{}, err
	}
	if a.Removed() {
		return a, ErrGone
	}
	return a, nil
}

// Coop finds the co-op's Organization actor.
func (s *Service) Coop(ctx context.Context) (Actor, error) { return s.Store.Coop(ctx) }

// Member finds a member by handle, removed ones included (check Removed).
func (s *Service) Member(ctx context.Context, handle string) (Member, error) {
	return s.Store.MemberByHandle(ctx, handle)
}

// Project finds a project by slug, removed ones included (check Removed).
func (s *Service) Project(ctx context.Context, slug string) (Project, error) {
	return s.Store.ProjectByHandle(ctx, slug)
}
