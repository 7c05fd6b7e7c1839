package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/coopfed/coopfed/coop"
)

// runProjects lists the projects of this co-op and of the federation's
// member co-ops, as they announced them.
func runProjects(ctx context.Context, e *env, args []string) error {
	fs := newFlags("projects", "projects [--coop HOST] [--tag T] [--need N] [--config PATH]", e.stderr)
	path := configFlag(fs)
	var f coop.ProjectFilter
	fs.StringVar(&f.Coop, "coop", "", "only the projects of the co-op on this host")
	fs.StringVar(&f.Tag, "tag", "", "only the projects with this tag")
	fs.StringVar(&f.Need, "need", "", "only the projects that need this")
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	ps, err := n.svc.FederatedProjects(ctx, f)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROJECT\tNAME\tLICENCE\tTAGS\tNEEDS\tREPOSITORY\tMAINTAINERS\tSUMMARY")
	for _, p := range ps {
		fmt.Fprintf(tw, "@%s@%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Handle, p.Host, p.Name, p.Licence,
			strings.Join(p.Tags, ","), strings.Join(p.Needs, ","), p.Repository, strings.Join(p.Maintainers, " "),
			shorten(oneLine(p.Summary), summaryColumn))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d projects\n", len(ps))
	return nil
}

// summaryColumn is how many characters of a summary the list shows.
const summaryColumn = 80

// oneLine puts text on one line: a local project's summary is plain text
// with line breaks (a remote one's is one line already).
func oneLine(text string) string { return strings.Join(strings.Fields(text), " ") }

// shorten cuts text to at most n characters, marking the cut with "…".
func shorten(text string, n int) string {
	r := []rune(text)
	if len(r) <= n {
		return text
	}
	return string(r[:n-1]) + "…"
}
