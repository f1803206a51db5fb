package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// routeCredentials gives each configured route that names no user the
// cluster's own credentials (its authorization block), as nats-server does
// for the routes it discovers: a configuration file cannot put a password
// from the environment inside a route's URL, and a command line must not
// carry it.
func routeCredentials(opts *server.Options) {
	if opts.Cluster.Username == "" {
		return
	}
	for _, r := range opts.Routes {
		if r.User == nil {
			r.User = url.UserPassword(opts.Cluster.Username, opts.Cluster.Password)
		}
	}
}

// natsCommand runs a plain nats-server (the one ssoattr embeds) with
// nats-server's own flags and configuration files. It exists so a NATS
// cluster for replicas can be run from the same binary, for example by
// docker-compose.yml, where no NATS image can be pulled.
func natsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	const natsUsage = "Usage: ssoattr nats [nats-server options]\n\n" +
		"Runs a standalone nats-server. Common options: -js (JetStream), -sd DIR (store),\n" +
		"-p PORT, -n NAME, -cluster URL, -routes URLS, --cluster_name NAME, -c FILE.\n"
	helped := false
	help := func() { // asked for: stdout, exit 0
		helped = true
		fmt.Fprint(stdout, natsUsage)
	}
	fs.Usage = func() { fmt.Fprint(stderr, natsUsage) } // a mistake
	opts, err := server.ConfigureOptions(fs, args,
		func() { fmt.Fprintln(stdout, "nats-server", server.VERSION); helped = true }, help, help)
	if helped {
		return nil
	}
	if err != nil {
		return fmt.Errorf("nats options: %w", err)
	}
	opts.NoSigs = true // this process's signals cancel ctx
	routeCredentials(opts)
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("nats-server: %w", err)
	}
	ns.ConfigureLogger()
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return errors.New("nats-server did not become ready")
	}
	<-ctx.Done()
	ns.Shutdown()
	ns.WaitForShutdown()
	return nil
}
