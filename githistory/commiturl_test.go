package githistory

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

const h40 = "0123456789abcdef0123456789abcdef01234567"

func TestCommitURL(t *testing.T) {
	sha256 := strings.Repeat("ab", 32)
	tests := []struct {
		name, repo, hash, want string
		err                    error
	}{
		{"github", "https://github.com/coopfed/coopfed", h40, "https://github.com/coopfed/coopfed/commit/" + h40, nil},
		{"trailing .git stripped", "https://github.com/coopfed/coopfed.git", h40, "https://github.com/coopfed/coopfed/commit/" + h40, nil},
		{"trailing slash stripped", "https://github.com/coopfed/coopfed/", h40, "https://github.com/coopfed/coopfed/commit/" + h40, nil},
		{".git then slash stripped", "https://codeberg.org/coopfed/coopfed.git/", h40, "https://codeberg.org/coopfed/coopfed/commit/" + h40, nil},
		{"surrounding space trimmed", "  https://codeberg.org/a/b \n", h40, "https://codeberg.org/a/b/commit/" + h40, nil},
		{"hash lower-cased", "https://github.com/a/b", strings.ToUpper(h40), "https://github.com/a/b/commit/" + h40, nil},
		{"sha-256 hash", "https://github.com/a/b", sha256, "https://github.com/a/b/commit/" + sha256, nil},
		{"host lower-cased", "https://GitHub.com/a/b", h40, "https://github.com/a/b/commit/" + h40, nil},
		{"scheme lower-cased", "HTTPS://github.com/a/b", h40, "https://github.com/a/b/commit/" + h40, nil},
		{"credentials dropped", "https://user:token@github.com/a/b.git", h40, "https://github.com/a/b/commit/" + h40, nil},
		{"query and fragment dropped", "https://github.com/a/b?tab=readme#top", h40, "https://github.com/a/b/commit/" + h40, nil},
		{"gitea with port keeps port", "https://gitea.example.org:3000/team/app.git", h40, "https://gitea.example.org:3000/team/app/commit/" + h40, nil},
		{"forgejo plain http kept", "http://forge.lan/team/app", h40, "http://forge.lan/team/app/commit/" + h40, nil},
		{"gitlab.com uses /-/commit", "https://gitlab.com/group/repo.git", h40, "https://gitlab.com/group/repo/-/commit/" + h40, nil},
		{"gitlab subgroups kept", "https://gitlab.com/group/sub/repo", h40, "https://gitlab.com/group/sub/repo/-/commit/" + h40, nil},
		{"self-hosted gitlab by name", "https://gitlab.example.coop/g/r", h40, "https://gitlab.example.coop/g/r/-/commit/" + h40, nil},
		{"sourcehut", "https://git.sr.ht/~alice/tool", h40, "https://git.sr.ht/~alice/tool/commit/" + h40, nil},
		{"sourcehut ssh", "git@git.sr.ht:~alice/tool", h40, "https://git.sr.ht/~alice/tool/commit/" + h40, nil},
		{"bitbucket uses /commits", "https://bitbucket.org/team/repo.git", h40, "https://bitbucket.org/team/repo/commits/" + h40, nil},
		{"cgit keeps .git and uses ?id=", "https://git.savannah.gnu.org/cgit/emacs.git", h40, "https://git.savannah.gnu.org/cgit/emacs.git/commit/?id=" + h40, nil},
		{"unknown host falls back to /commit", "https://git.example.net/pub/scm/tool.git", h40, "https://git.example.net/pub/scm/tool/commit/" + h40, nil},
		{"scp-like ssh to https", "git@github.com:coopfed/coopfed.git", h40, "https://github.com/coopfed/coopfed/commit/" + h40, nil},
		{"scp-like ssh gitlab", "git@gitlab.com:group/sub/repo.git", h40, "https://gitlab.com/group/sub/repo/-/commit/" + h40, nil},
		{"scp-like absolute path", "git@forge.lan:/srv/git/app.git", h40, "https://forge.lan/srv/git/app/commit/" + h40, nil},
		{"ssh url drops user and port", "ssh://git@forge.lan:2222/team/app.git", h40, "https://forge.lan/team/app/commit/" + h40, nil},

		{"git scheme refused", "git://github.com/a/b.git", h40, "", ErrRepoURL},
		{"file scheme refused", "file:///srv/git/app.git", h40, "", ErrRepoURL},
		{"javascript refused", "javascript:alert(1)", h40, "", ErrRepoURL},
		{"local path refused", "/srv/git/app.git", h40, "", ErrRepoURL},
		{"empty refused", "", h40, "", ErrRepoURL},
		{"host only refused", "https://github.com/", h40, "", ErrRepoURL},
		{"only .git refused", "https://forge.lan/.git", h40, "", ErrRepoURL},
		{"github page url refused", "https://github.com/a/b/tree/main", h40, "", ErrRepoURL},
		{"github owner only refused", "https://github.com/a", h40, "", ErrRepoURL},
		{"sourcehut without ~ refused", "https://git.sr.ht/alice/tool", h40, "", ErrRepoURL},
		{"dot-dot segment refused", "https://forge.lan/a/../b", h40, "", ErrRepoURL},
		{"space refused", "https://forge.lan/a b", h40, "", ErrRepoURL},
		{"bad host refused", "https://for_ge.lan/a/b", h40, "", ErrRepoURL},
		{"short hash refused", "https://github.com/a/b", h40[:12], "", ErrHash},
		{"non-hex hash refused", "https://github.com/a/b", strings.Repeat("g", 40), "", ErrHash},
		{"hash with path refused", "https://github.com/a/b", "../../" + h40[6:], "", ErrHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CommitURL(tt.repo, tt.hash)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("CommitURL(%q, %q) = %q, %v; want error %v", tt.repo, tt.hash, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("CommitURL(%q, %q) = %q, %v; want %q", tt.repo, tt.hash, got, err, tt.want)
			}
		})
	}
}

// FuzzCommitURL checks that whatever the repository URL, a link that
// CommitURL returns is an http(s) URL without credentials or fragment,
// on a host, ending in the hash.
func FuzzCommitURL(f *testing.F) {
	for _, s := range []string{
		"https://github.com/coopfed/coopfed.git", "git@gitlab.com:g/s/r.git",
		"ssh://git@forge.lan:2222/team/app.git", "https://git.sr.ht/~alice/tool",
		"https://git.savannah.gnu.org/cgit/emacs.git", "https://u:p@bitbucket.org/t/r",
		"http://[::1]:3000/a/b", "file:///x", "a@b:c", "https://x/%2e%2e/y",
	} {
		f.Add(s, h40)
	}
	f.Fuzz(func(t *testing.T, repo, hash string) {
		got, err := CommitURL(repo, hash)
		if err != nil {
			if !errors.Is(err, ErrRepoURL) && !errors.Is(err, ErrHash) {
				t.Fatalf("CommitURL(%q, %q): unnamed error %v", repo, hash, err)
			}
			return
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("CommitURL(%q, %q) = %q, which does not parse: %v", repo, hash, got, err)
		}
		if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("CommitURL(%q, %q) = %q: want http(s), a host, no user, no fragment", repo, hash, got)
		}
		if !strings.HasSuffix(got, strings.ToLower(hash)) {
			t.Fatalf("CommitURL(%q, %q) = %q: does not end in the hash", repo, hash, got)
		}
		if strings.ContainsFunc(got, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			t.Fatalf("CommitURL(%q, %q) = %q: space or control character", repo, hash, got)
		}
	})
}
