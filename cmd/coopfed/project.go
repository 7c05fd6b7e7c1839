package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/coopfed/coopfed/coop"
)

func runProject(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, "project", args, []command{
		{"add", "add a project (a Group actor)", projectAdd},
		{"list", "list the projects", projectList},
		{"set", "change a project (Update sent to its followers, the co-op's and the peers)", projectSet},
		{"remove", "remove a project (its Group answers 410 Gone; Remove and Delete sent; the slug is never reused)", projectRemove},
	})
}

func projectAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlags("project add", "project add SLUG --name NAME [--summary TEXT] [--repo URL] [--licence SPDX] [--tag T]... [--need N]... [--maintainer NAME|@name@host|URL]... [--config PATH]", e.stderr)
	path := configFlag(fs)
	name := fs.String("name", "", "the project's name")
	summary := fs.String("summary", "", "a short description")
	repo := fs.String("repo", "", "URL of the source repository")
	licence := fs.String("licence", "", "SPDX licence expression, e.g. AGPL-3.0-or-later")
	fs.StringVar(licence, "license", "", "same as --licence")
	var tags, needs, maintainers stringList
	fs.Var(&tags, "tag", "a topic (repeat for several)")
	fs.Var(&needs, "need", "something the project looks for, e.g. review (repeat for several)")
	fs.Var(&maintainers, "maintainer", "a local member's NAME, a remote @name@host, or an actor URL (repeat for several)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 1, "SLUG"); err != nil {
		return err
	}
	if *name == "" {
		fs.Usage()
		return usagef("--name is required")
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	p, err := n.svc.AddProject(ctx, coop.NewProject{
		Slug: pos[0], Name: *name, Summary: *summary, Repository: *repo, Licence: *licence,
		Tags: tags, Needs: needs, Maintainers: maintainers,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added project %s @%s\n", p.Name, n.svc.Site.Acct(p.Handle))
	fmt.Fprintf(e.stdout, "actor: %s\n", n.svc.Site.ActorID(p.Handle))
	for _, m := range p.Maintainers {
		fmt.Fprintf(e.stdout, "maintainer: %s\n", m)
	}
	return nil
}

func projectList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("project list", "project list [--config PATH]", e.stderr)
	path := configFlag(fs)
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	ps, err := n.svc.Projects(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HANDLE\tNAME\tLICENCE\tTAGS\tNEEDS\tMAINTAINERS\tREPOSITORY")
	for _, p := range ps {
		fmt.Fprintf(tw, "@%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.svc.Site.Acct(p.Handle), p.Name, p.Licence,
			strings.Join(p.Tags, ","), strings.Join(p.Needs, ","), strings.Join(p.Maintainers, " "), p.Repository)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d projects\n", len(ps))
	return nil
}

func projectSet(ctx context.Context, e *env, args []string) error {
	fs := newFlags("project set", "project set SLUG [--name NAME] [--summary TEXT] [--repo URL] [--licence SPDX] [--tag T]... [--need N]... [--config PATH]", e.stderr)
	path := configFlag(fs)
	var ch coop.ProjectChange
	strFlag := func(target **string, name, usage string) {
		fs.Func(name, usage, func(v string) error { *target = &v; return nil })
	}
	strFlag(&ch.Name, "name", "the project's new name")
	strFlag(&ch.Summary, "summary", "a new short description")
	strFlag(&ch.Repository, "repo", "URL of the source repository")
	strFlag(&ch.Licence, "licence", "SPDX licence expression")
	strFlag(&ch.Licence, "license", "same as --licence")
	var tags, needs stringList
	fs.Var(&tags, "tag", "a topic; the tags given replace all (repeat for several; --tag '' for none)")
	fs.Var(&needs, "need", "something the project looks for; the needs given replace all (--need '' for none)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 1, "SLUG"); err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "tag":
			ch.Tags = (*[]string)(&tags)
		case "need":
			ch.Needs = (*[]string)(&needs)
		}
	})
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	p, err := n.svc.UpdateProject(ctx, pos[0], ch)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "project @%s is at revision %d (Update queued to its followers and the co-op's)\n", n.svc.Site.Acct(p.Handle), p.Revision)
	return nil
}

func projectRemove(ctx context.Context, e *env, args []string) error {
	fs := newFlags("project remove", "project remove SLUG [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "SLUG")
	if err != nil {
		return err
	}
	defer n.Close()
	p, err := n.svc.RemoveProject(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed project @%s: its actor answers 410 Gone; Remove and Delete queued to the co-op's followers, the peers and the project's followers\n",
		n.svc.Site.Acct(p.Handle))
	return nil
}
