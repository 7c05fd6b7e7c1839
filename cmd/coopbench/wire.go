package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The inbound benchmarks' load generator. The node and its load share the
// machine's two cores, so what the load costs is taken from the node:
// net/http's client (a request built, its headers written, a response
// parsed into a header map, two goroutines per connection) cost about 30
// µs per POST, 15 % of the round (profile of session 4). The wire client
// is what a load generator such as wrk does instead: each request's bytes
// are written before the timed part (request line, the signed headers,
// the body, as net/http's Request.Write writes them), and a round writes
// them on keep-alive connections and reads the status line and headers
// of each answer. The node sees the same HTTP/1.1 requests either way;
// -client http keeps net/http's client, to compare.

// clientFlag adds -client to a benchmark's flags.
func clientFlag(fs *flag.FlagSet) *string {
	return fs.String("client", "wire", "load generator: wire (pre-written requests on raw keep-alive connections) or http (net/http's client)")
}

// wireRequest is the bytes of a POST of body to url with the signed
// headers h, as net/http writes it.
func wireRequest(url string, s signed) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(s.body))
	if err != nil {
		return nil, err
	}
	for k, v := range s.header {
		req.Header[k] = v
	}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// poster posts a round's requests over conc connections at once, with
// net/http's client or the wire client, and returns the first failure.
type poster struct {
	kind string // "wire" or "http"
	url  string
	addr string // host:port of url, for the wire client
	conc int
	http *http.Client
}

func newPoster(kind, url, addr string, conc int) (*poster, error) {
	p := &poster{kind: kind, url: url, addr: addr, conc: conc}
	switch kind {
	case "http":
		p.http = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}, Timeout: 30 * time.Second}
	case "wire":
	default:
		return nil, fmt.Errorf("-client %q: want wire or http", kind)
	}
	return p, nil
}

// prepared is a round's requests, ready for the poster's kind.
type prepared struct {
	signed []signed
	wire   [][]byte
}

// prepare writes the requests' bytes for the wire client (not timed).
func (p *poster) prepare(reqs []signed) (prepared, error) {
	out := prepared{signed: reqs}
	if p.kind != "wire" {
		return out, nil
	}
	out.wire = make([][]byte, len(reqs))
	for i, s := range reqs {
		b, err := wireRequest(p.url, s)
		if err != nil {
			return out, err
		}
		out.wire[i] = b
	}
	return out, nil
}

// post posts every request of a round and returns the first failure.
func (p *poster) post(reqs prepared) error {
	if p.kind == "http" {
		return postAll(p.http, p.url, reqs.signed, p.conc)
	}
	return postAllWire(p.addr, reqs.wire, p.conc)
}

// postAllWire writes every request on conc keep-alive connections at
// once, one request at a time on each, and checks that each is answered
// 202 Accepted.
func postAllWire(addr string, reqs [][]byte, conc int) error {
	var (
		next     atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	fail := func(err error) { once.Do(func() { firstErr = err }) }
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c *wireConn
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(reqs) {
					return
				}
				if c == nil {
					var err error
					if c, err = dialWire(addr); err != nil {
						fail(err)
						return
					}
				}
				keep, err := c.post(reqs[i])
				if err != nil {
					fail(err)
					return
				}
				if !keep {
					c.Close()
					c = nil
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// wireConn is one keep-alive connection of the wire client.
type wireConn struct {
	net.Conn
	r *bufio.Reader
}

func dialWire(addr string) (*wireConn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return &wireConn{Conn: c, r: bufio.NewReaderSize(c, 4096)}, nil
}

// post writes one request and reads its answer: nil when it is 202, and
// whether the connection stays open.
func (c *wireConn) post(req []byte) (keep bool, err error) {
	if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return false, err
	}
	if _, err := c.Write(req); err != nil {
		return false, err
	}
	status, length, keep, err := readHead(c.r)
	if err != nil {
		return false, err
	}
	if status == http.StatusAccepted {
		_, err := c.r.Discard(length)
		return keep, err
	}
	msg := make([]byte, min(length, 512))
	io.ReadFull(c.r, msg)
	return false, fmt.Errorf("POST: %d %s: %s", status, http.StatusText(status), msg)
}

var errChunked = errors.New("wire client: a chunked answer (the inbox answers with a length)")

// readHead reads an HTTP/1.1 answer's status line and headers: its
// status, its Content-Length, and whether the connection stays open.
func readHead(r *bufio.Reader) (status, length int, keep bool, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, err
	}
	// "HTTP/1.1 202 Accepted\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, 0, false, fmt.Errorf("wire client: bad status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, 0, false, fmt.Errorf("wire client: bad status line %q", line)
	}
	keep, length = true, -1
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return 0, 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, 0, false, fmt.Errorf("wire client: bad header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, 0, false, fmt.Errorf("wire client: bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, 0, false, errChunked
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keep = false
			}
		}
	}
	if length < 0 {
		return 0, 0, false, errors.New("wire client: an answer without Content-Length")
	}
	return status, length, keep, nil
}
