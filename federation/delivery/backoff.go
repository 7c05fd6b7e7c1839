package delivery

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The retry schedule; see the package doc.
const (
	MaxAttempts  = 16
	firstBackoff = 30 * time.Second
	maxBackoff   = 12 * time.Hour
	// maxRetryAfter caps what a peer's Retry-After can ask for.
	maxRetryAfter = 24 * time.Hour
)

// Backoff is the wait after the attempt-th failed attempt (1 for the first),
// before jitter: 30 s·2^(attempt-1), capped at 12 h.
func Backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 20 { // 30 s·2^19 is already far past the cap
		return maxBackoff
	}
	return min(firstBackoff<<(attempt-1), maxBackoff)
}

// jittered scales d by a factor in [0.8, 1.2); u is uniform in [0, 1).
func jittered(d time.Duration, u float64) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*u))
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date,
// relative to now, capped at maxRetryAfter. ok is false when the header is
// absent or unreadable.
func retryAfter(h string, now time.Time) (d time.Duration, ok bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}

// verdict is what a response means for a delivery.
type verdict int

const (
	verdictDone  verdict = iota // delivered
	verdictRetry                // try again later
	verdictDead                 // never try again
)

// judge classifies an HTTP status, as the package doc says.
func judge(status int) verdict {
	switch {
	case status >= 200 && status < 300:
		return verdictDone
	case status == http.StatusUnauthorized, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return verdictRetry
	case status >= 400 && status < 500:
		return verdictDead
	}
	return verdictRetry
}
