package githistory

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

var (
	// ErrRepoURL is returned by CommitURL for a repository URL it cannot
	// turn into a web link.
	ErrRepoURL = errors.New("githistory: unsupported repository URL")
	// ErrHash is returned by CommitURL for a hash that is not a full
	// SHA-1 or SHA-256 commit hash in hex.
	ErrHash = errors.New("githistory: not a full commit hash")
)

// CommitURL returns the web page of commit hash in the repository at
// repoURL, the evidence link of an imported contribution.
//
// repoURL is an http(s) URL, or an SSH clone address (`git@host:path` or
// `ssh://[user@]host[:port]/path`), which becomes https on the same host
// (without the SSH port). User, password, query and fragment are dropped,
// so a token in a clone URL never reaches a record; a trailing "/" and
// ".git" are stripped. Any other scheme (git://, file://, ...) is
// ErrRepoURL. The commit page is then, by host:
//
//   - gitlab.com and any host whose name contains "gitlab":
//     https://host/group/repo/-/commit/HASH (subgroups kept);
//   - bitbucket.org: https://bitbucket.org/owner/repo/commits/HASH;
//   - a path whose first segment is "cgit" (cgit's usual mount, as on
//     git.savannah.gnu.org): https://host/cgit/repo.git/commit/?id=HASH,
//     ".git" kept, as cgit names repositories by directory;
//   - everything else, which covers GitHub, Codeberg, Gitea, Forgejo, Gogs
//     and sourcehut (https://git.sr.ht/~user/repo):
//     https://host/path/commit/HASH. This is the fallback too: a cgit
//     mounted elsewhere, or a host whose clone URL is not its web URL,
//     gets a link that may not resolve, and the project's repository URL
//     should then be set to the web address.
//
// github.com, codeberg.org and git.sr.ht take exactly owner/repo (a
// pasted page URL such as .../tree/main is refused). hash is 40 or 64 hex
// digits; it is written lower-case.
func CommitURL(repoURL, hash string) (string, error) {
	h := strings.ToLower(hash)
	if (len(h) != 40 && len(h) != 64) || strings.Trim(h, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%w: %q", ErrHash, hash)
	}
	u, err := webURL(repoURL)
	if err != nil {
		return "", err
	}
	host := u.Hostname()
	segs := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	switch {
	case host == "gitlab.com" || strings.Contains(host, "gitlab"):
		if len(segs) < 2 {
			return "", fmt.Errorf("%w: %q: want https://%s/group/repo", ErrRepoURL, repoURL, host)
		}
		u.Path += "/-/commit/" + h
	case host == "bitbucket.org":
		if len(segs) != 2 {
			return "", fmt.Errorf("%w: %q: want https://%s/owner/repo", ErrRepoURL, repoURL, host)
		}
		u.Path += "/commits/" + h
	case segs[0] == "cgit":
		if len(segs) < 2 {
			return "", fmt.Errorf("%w: %q: no repository after /cgit", ErrRepoURL, repoURL)
		}
		u.Path += "/commit/"
		u.RawQuery = "id=" + h
	default:
		if (host == "github.com" || host == "codeberg.org" || host == "git.sr.ht") && len(segs) != 2 {
			return "", fmt.Errorf("%w: %q: want https://%s/owner/repo", ErrRepoURL, repoURL, host)
		}
		if host == "git.sr.ht" && !strings.HasPrefix(segs[0], "~") {
			return "", fmt.Errorf("%w: %q: want https://git.sr.ht/~user/repo", ErrRepoURL, repoURL)
		}
		u.Path += "/commit/" + h
	}
	return u.String(), nil
}

// webURL parses a repository URL into scheme, host (with port for
// http(s)) and a clean path without ".git" (kept under /cgit/).
func webURL(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	bad := func(why string) (*url.URL, error) {
		return nil, fmt.Errorf("%w: %q: %s", ErrRepoURL, raw, why)
	}
	if s == "" {
		return bad("empty")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return bad("contains space or control characters")
	}
	u := &url.URL{Scheme: "https"}
	var path string
	if before, after, ok := strings.Cut(s, ":"); ok && !strings.Contains(s, "://") && strings.Contains(before, "@") && !strings.Contains(before, "/") {
		// scp-like SSH: user@host:path
		u.Host = before[strings.LastIndex(before, "@")+1:]
		path = "/" + strings.TrimPrefix(after, "/")
	} else {
		p, err := url.Parse(s)
		if err != nil {
			return bad(err.Error())
		}
		switch strings.ToLower(p.Scheme) {
		case "http", "https":
			u.Scheme = strings.ToLower(p.Scheme)
			u.Host = p.Host
		case "ssh":
			u.Host = p.Hostname() // the SSH port says nothing of the web's
			if strings.Contains(u.Host, ":") {
				u.Host = "[" + u.Host + "]"
			}
		case "":
			return bad("no scheme (want https://host/owner/repo or git@host:owner/repo)")
		default:
			return bad("scheme " + p.Scheme + " has no web page")
		}
		if p.Opaque != "" {
			return bad("no host")
		}
		path = p.Path
	}
	u.Host = strings.ToLower(u.Host)
	if !validHost(u.Hostname()) {
		return bad("bad host")
	}
	if port := u.Port(); port != "" && strings.Trim(port, "0123456789") != "" {
		return bad("bad port")
	}
	path = strings.TrimRight(path, "/")
	if !strings.HasPrefix(path, "/cgit/") {
		path = strings.TrimRight(strings.TrimSuffix(path, ".git"), "/")
	}
	if path == "" {
		return bad("no repository path")
	}
	for seg := range strings.SplitSeq(strings.TrimPrefix(path, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return bad("empty, . or .. path segment")
		}
	}
	u.Path = path
	return u, nil
}

// validHost accepts DNS names, IPv4 and IPv6 literals (without
// brackets): letters, digits, '-', '.', and ':' for IPv6.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.', r == ':':
		default:
			return false
		}
	}
	return !strings.HasPrefix(h, ".") && !strings.HasPrefix(h, "-")
}
