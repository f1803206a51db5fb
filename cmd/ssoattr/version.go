package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/nats-io/nats-server/v2/server"
)

// versionCommand is "ssoattr version": the module version, the commit it
// was built from and the Go and nats-server versions, so a bug report can
// say exactly what ran.
func versionCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", func(string) string { return "" })
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ssoattr version\n\nPrints the module version, the VCS commit the binary was built from, and the Go\nand embedded nats-server versions.\n")
	}
	if err := fs.parse(args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Sprintf("version takes no arguments, got %q", fs.Args())}
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprint(stdout, versionText(info))
	return nil
}

// versionText formats what the build recorded; info may be nil.
func versionText(info *debug.BuildInfo) string {
	version, commit, when, modified := "unknown", "", "", false
	goVersion := runtime.Version()
	if info != nil {
		version, goVersion = info.Main.Version, info.GoVersion
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if version == "" {
		version = "unknown"
	}
	c := "unknown (no VCS information in this build: go run, go test, -buildvcs=false or a git worktree)"
	if commit != "" {
		c = commit
		if when != "" {
			c += " " + when
		}
		if modified {
			c += " (with uncommitted changes)"
		}
	}
	return fmt.Sprintf("ssoattr      %s\ncommit       %s\ngo           %s %s/%s\nnats-server  %s (embedded)\n",
		version, c, goVersion, runtime.GOOS, runtime.GOARCH, server.VERSION)
}
