package payout_test

import (
	"fmt"
	"os"
	"time"

	"github.com/coopfed/coopfed/payout"
)

func Example() {
	eur, _ := payout.LookupCurrency("EUR")
	budget, _ := payout.ParseAmount("1000.00", eur)
	rate, _ := payout.ParseAmount("40.00", eur)
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	s, err := payout.Split(
		payout.Round{Budget: budget, Currency: eur, Formula: payout.Minutes, Rate: rate},
		[]payout.Record{
			{ID: "c1", Contributor: "https://coop.example/users/alice", Date: day, Minutes: 600},
			{ID: "c2", Contributor: "https://coop.example/users/bob", Date: day, Minutes: 450},
			{ID: "c3", Contributor: "https://coop.example/users/alice", Date: day, Minutes: 200},
		})
	if err != nil {
		fmt.Println(err)
		return
	}
	// 800 min × 40.00/h = 533.33+1/3, 450 min = 300.00: R = 833.33+1/3,
	// below the budget; 166.67 stays unallocated.
	os.Stdout.Write(s.CSV())
	fmt.Println("total", payout.FormatAmount(s.Total, eur), "unallocated", payout.FormatAmount(s.Unallocated, eur))
	// Output:
	// contributor,records,minutes,points,raw_minor,exact_minor,share
	// https://coop.example/users/alice,2,800,0,160000/3,160000/3,533.33
	// https://coop.example/users/bob,1,450,0,30000,30000,300.00
	// total 833.33 unallocated 166.67
}
