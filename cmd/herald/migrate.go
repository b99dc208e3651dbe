package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/heraldproject/herald/migrate/eventexporter"
)

// runMigrate implements `herald migrate event-exporter [--format=args|helm] [--secret=NAME]
// CONFIG.yaml`: it reads a resmoio/kubernetes-event-exporter config and prints the herald flags
// (or Helm values) that deliver the same events to the same places, checks them with herald's
// own --sink parser, and names on stderr everything it could not carry over. Exit code 0: all
// mapped; 1: something could not be mapped (what could is still printed); 2: usage error or a
// config that cannot be read.
func runMigrate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "args", "output: args (herald flags, one per line, ready to paste after `herald`) or helm (a values.yaml for deploy/helm/herald)")
	secretName := fs.String("secret", "herald-secrets", "with --format=helm: the Secret the env entries read secrets from")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: herald migrate event-exporter [--format=args|helm] [--secret=NAME] CONFIG.yaml\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var positional []string
	for rest := fs.Args(); len(rest) > 0; rest = fs.Args() {
		positional = append(positional, rest[0])
		if err := fs.Parse(rest[1:]); err != nil {
			return 2
		}
	}
	if len(positional) != 2 || positional[0] != "event-exporter" {
		fmt.Fprint(stderr, "herald migrate: write herald migrate event-exporter [--format=args|helm] CONFIG.yaml (the only tool herald migrates from this way is kubernetes-event-exporter; for kube-eventer keep your flags, see docs/migrate-from-kube-eventer.md)\n")
		return 2
	}
	if *format != "args" && *format != "helm" {
		fmt.Fprintf(stderr, "herald migrate: --format=%q is not known; use args or helm\n", *format)
		return 2
	}
	file := positional[1]
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "herald migrate: %v\n", err)
		return 2
	}
	m, err := eventexporter.Read(data, file)
	if err != nil {
		fmt.Fprintf(stderr, "herald migrate: %s: %v\n", file, err)
		return 2
	}
	m.Verify()
	if *format == "helm" {
		m.WriteHelm(stdout, *secretName)
	} else {
		m.WriteArgs(stdout)
	}
	return m.Report(stderr)
}
