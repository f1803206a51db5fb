// Command chaos runs the fault suite's checks against the docker-compose
// cluster: it brings the cluster up (scripts/compose.sh), runs a bounded
// load through both replicas' published loopback ports, and kills, pauses
// and restores each NATS node and each replica in turn. After each step it
// prints what the clients saw, checked against the stream (read back
// through the attribute history), and it exits 1 if an acknowledged write
// was lost, a write answered E008005 was stored, an event was stored twice
// or a read missed an acknowledged write. Not for CI: it needs Docker and
// takes several minutes.
//
//	go run ./scripts/chaos [--down 8s] [--no-up] [--keep]
//
// It uses SSOATTR_FERNET_KEY and SSOATTR_ADMIN_PASSWORD when set (as
// docker-compose.yml needs them), else makes both up for this run.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ssoattr/ssoattr/faults"
	"github.com/ssoattr/ssoattr/sso"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

type config struct {
	down, wait time.Duration
	noUp, keep bool
	replicas   []string
}

func run() error {
	var c config
	var replicas string
	flag.DurationVar(&c.down, "down", 8*time.Second, "how long each fault lasts")
	flag.DurationVar(&c.wait, "wait", 90*time.Second, "how long to wait for the cluster to be ready again")
	flag.BoolVar(&c.noUp, "no-up", false, "use the cluster already running (do not run scripts/compose.sh up)")
	flag.BoolVar(&c.keep, "keep", false, "leave the cluster running at the end")
	flag.StringVar(&replicas, "replicas", "http://127.0.0.1:17010,http://127.0.0.1:17011", "the replicas' published URLs")
	flag.Parse()
	c.replicas = strings.Split(replicas, ",")
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if os.Getenv("SSOATTR_FERNET_KEY") == "" {
		os.Setenv("SSOATTR_FERNET_KEY", sso.NewKey())
	}
	if os.Getenv("SSOATTR_ADMIN_PASSWORD") == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		os.Setenv("SSOATTR_ADMIN_PASSWORD", "Chaos-"+hex.EncodeToString(b))
	}
	// scripts/compose.sh builds the binary and the image, then starts;
	// the faults go to docker compose directly.
	command := func(name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
		return cmd.Run()
	}
	compose := func(args ...string) error {
		if exec.Command("docker", "compose", "version").Run() == nil {
			return command("docker", append([]string{"compose"}, args...)...)
		}
		return command("docker-compose", args...)
	}
	if !c.noUp {
		if err := command(filepath.Join(root, "scripts", "compose.sh"), "up", "-d"); err != nil {
			return fmt.Errorf("compose up: %w", err)
		}
	}
	// docker-compose.yml takes the NATS users' passwords from the
	// environment; compose.sh made them into deploy/compose.env and sets
	// them for its own commands only, so the faults' commands need them too.
	if err := loadEnv(filepath.Join(root, "deploy", "compose.env")); err != nil {
		return err
	}
	if !c.keep {
		defer func() { _ = compose("down", "-v") }()
	}
	if err := waitReady(c.replicas, c.wait); err != nil {
		return err
	}
	clients, err := setup(c.replicas)
	if err != nil {
		return err
	}

	type step struct {
		name           string
		apply, restore []string
		replica        int // -1: a NATS node; else the replica that goes away
	}
	var steps []step
	for _, s := range []string{"nats1", "nats2", "nats3"} {
		steps = append(steps,
			step{s + " killed", []string{"kill", "-s", "SIGKILL", s}, []string{"start", s}, -1},
			step{s + " paused", []string{"pause", s}, []string{"unpause", s}, -1})
	}
	for i, s := range []string{"ssoattr1", "ssoattr2"} {
		steps = append(steps,
			step{s + " killed", []string{"kill", "-s", "SIGKILL", s}, []string{"start", s}, i},
			step{s + " stopped (SIGTERM)", []string{"stop", "-t", "15", s}, []string{"start", s}, i},
			step{s + " paused", []string{"pause", s}, []string{"unpause", s}, i})
	}
	failed := false
	for _, st := range steps {
		rec := &faults.Recorder{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		label := strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(st.name)
		cs := make([]faults.Client, len(clients))
		for i, cl := range clients {
			cl.Label += "-" + label
			cs[i] = cl
		}
		go func() { faults.Load(ctx, rec, cs, 1, 100000, 20*time.Millisecond); close(done) }()
		time.Sleep(2 * time.Second) // load before the fault
		began := time.Now()
		if err := compose(st.apply...); err != nil {
			cancel()
			return fmt.Errorf("%s: %w", st.name, err)
		}
		time.Sleep(c.down)
		if err := compose(st.restore...); err != nil {
			cancel()
			return fmt.Errorf("%s: restore: %w", st.name, err)
		}
		restored := time.Now()
		err := waitReady(c.replicas, c.wait)
		ready := time.Since(restored)
		time.Sleep(2 * time.Second) // load after recovery
		cancel()
		<-done
		if err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		stored, err := storedNames(c.replicas[0], cs)
		if err != nil {
			return fmt.Errorf("%s: read back: %w", st.name, err)
		}
		rep := rec.Check(stored)
		fmt.Printf("%-28s %v; ready %v after restore; writes acknowledged again %v after the fault began\n",
			st.name+":", rep, ready.Round(time.Millisecond), rec.FirstAckAfter(began).Round(time.Millisecond))
		if !rep.OK() {
			failed = true
			fmt.Printf("%-28s VIOLATION: lost %v; stored twice %v; failed but stored %v; stale %v\n", "",
				head(rep.Lost), head(rep.Twice), head(rep.FailedStored), head(rep.Stale))
		}
	}
	if failed {
		return errors.New("an acknowledged write was lost, a failed write stored, an event stored twice, or a read was stale")
	}
	fmt.Println("chaos: no acknowledged write lost, no failed write stored, nothing stored twice, no stale read")
	return nil
}

func head(l []string) []string { return l[:min(len(l), 5)] }

func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if ok {
		if root := filepath.Join(filepath.Dir(file), "..", ".."); exists(filepath.Join(root, "docker-compose.yml")) {
			return root, nil
		}
	}
	wd, err := os.Getwd()
	if err == nil && exists(filepath.Join(wd, "docker-compose.yml")) {
		return wd, nil
	}
	return "", errors.New("run it from the repository's root")
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

var client = &http.Client{Timeout: 20 * time.Second}

// waitReady waits until every replica's /readyz answers 200.
func waitReady(urls []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, u := range urls {
		for {
			resp, err := client.Get(u + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s/readyz not 200 after %v", u, timeout)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	return nil
}

func call(method, url string, body map[string]any) (int, map[string]any, error) {
	data, _ := json.Marshal(body)
	req, err := http.NewRequest(method, url, bytes.NewReader(data))
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, nil
}

// setup logs admin in and creates two users for the load.
func setup(urls []string) ([]faults.Client, error) {
	login := func(user, password string) (string, error) {
		st, body, err := call("POST", urls[0]+"/zato/sso/user/login", map[string]any{"username": user, "password": password, "current_app": "CRM"})
		ust, _ := body["ust"].(string)
		if err != nil || st != 200 || ust == "" {
			return "", fmt.Errorf("login %s: %d %v %v", user, st, body, err)
		}
		return ust, nil
	}
	root, err := login("admin", os.Getenv("SSOATTR_ADMIN_PASSWORD"))
	if err != nil {
		return nil, err
	}
	const password = "Chaos-Horse-7-Battery"
	var out []faults.Client
	for k := range 2 {
		name := fmt.Sprintf("chaos%d%d", time.Now().Unix(), k)
		st, body, err := call("POST", urls[0]+"/zato/sso/user", map[string]any{"ust": root, "current_app": "CRM",
			"username": name, "password": password, "auto_approve": true})
		id, _ := body["user_id"].(string)
		if err != nil || st != 200 || id == "" {
			return nil, fmt.Errorf("create user %s: %d %v %v", name, st, body, err)
		}
		ust, err := login(name, password)
		if err != nil {
			return nil, err
		}
		out = append(out, faults.Client{HTTP: client, URLs: urls, UST: ust, User: id, Label: name})
	}
	return out, nil
}

// storedNames counts, from the users' attribute histories, how many times
// each attribute name was stored.
func storedNames(url string, clients []faults.Client) (map[string]int, error) {
	out := map[string]int{}
	for _, c := range clients {
		after := ""
		for {
			req := map[string]any{"ust": c.UST, "current_app": "CRM", "limit": 1000}
			if after != "" {
				req["after"] = after
			}
			st, body, err := call("GET", url+"/zato/sso/user/attr/history", req)
			if err != nil || st != 200 {
				return nil, fmt.Errorf("history: %d %v %v", st, body, err)
			}
			list, _ := body["result"].([]any)
			for _, ch := range list {
				m, _ := ch.(map[string]any)
				if name, _ := m["name"].(string); name != "" && m["type"] == "set" {
					out[name]++
				}
			}
			next, _ := body["next"].(string)
			if next == "" {
				break
			}
			after = next
		}
	}
	return out, nil
}

// loadEnv sets the KEY=VALUE lines of file in this process's environment,
// where the commands it starts find them.
func loadEnv(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("the cluster's passwords (run scripts/compose.sh once): %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			os.Setenv(k, v)
		}
	}
	return nil
}
