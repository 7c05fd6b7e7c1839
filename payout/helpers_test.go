package payout

import (
	"fmt"
	"time"
)

// day is a fixed date for records: nothing here reads the clock.
var day = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

const (
	alice = "https://coop.example/users/alice"
	bob   = "https://coop.example/users/bob"
	carol = "https://coop.example/users/carol"
)

// recs builds records from (contributor, minutes, points) triples, with
// IDs r1, r2, ... in the order given.
func recs(rows ...any) []Record {
	var rs []Record
	for i := 0; i+2 < len(rows); i += 3 {
		rs = append(rs, Record{
			ID:          fmt.Sprintf("r%d", len(rs)+1),
			Contributor: rows[i].(string),
			Date:        day,
			Minutes:     int64(rows[i+1].(int)),
			Points:      int64(rows[i+2].(int)),
		})
	}
	return rs
}

func shares(s Statement) map[string]Amount {
	m := make(map[string]Amount)
	for _, l := range s.Lines {
		m[l.Contributor] = l.Share
	}
	return m
}
