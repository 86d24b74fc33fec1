package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeFirstStart runs `vigil serve` on an empty data directory: it
// creates the owner with a one-time password, serves on a free port, and
// stops cleanly on cancel. A second server on the same directory is refused.
func TestServeFirstStart(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--log-level", "warn", "--owner-email", "chief@example.com",
			"--debug-listen", "127.0.0.1:0"},
			stdio{strings.NewReader(""), pw, io.Discard})
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var url, password, debug string
	urlRE := regexp.MustCompile(`running at (http://\S+)`)
	debugRE := regexp.MustCompile(`debug profiles at (http://\S+)`)
	pwRE := regexp.MustCompile(`password: (\S+)`)
	deadline := time.After(30 * time.Second)
	lines := make(chan string)
	go func() {
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for url == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("serve exited early")
			}
			if m := pwRE.FindStringSubmatch(l); m != nil {
				password = m[1]
			}
			if m := urlRE.FindStringSubmatch(l); m != nil {
				url = m[1]
			}
			if m := debugRE.FindStringSubmatch(l); m != nil {
				debug = m[1]
			}
		case <-deadline:
			t.Fatal("serve did not start")
		}
	}
	go func() {
		for range lines {
		}
	}()
	if password == "" {
		t.Fatal("first start did not print the owner's one-time password")
	}
	// Profiles are served on the debug address only, never the public one.
	if res, err := http.Get(debug); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %q (debug listener): %v %v", debug, res, err)
	}
	if res, err := http.Get(url + "/debug/pprof/"); err == nil {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(b), "goroutine") {
			t.Fatal("the public address serves profiles")
		}
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/login", "/api/v1/openapi.json"} {
		res, err := http.Get(url + p)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", p, res, err)
		}
		res.Body.Close()
	}
	body := strings.NewReader(`{"email":"chief@example.com","password":"` + password + `"}`)
	res, err := http.Post(url+"/api/v1/auth/login", "application/json", body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("owner login: %v %v", res.StatusCode, err)
	}
	b, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(b), `"must_change_password":true`) {
		t.Fatalf("one-time password must force a change: %s", b)
	}
	if code, _, errs := vigil(t, "", "serve", "--data", data, "--addr", "127.0.0.1:0"); code != 1 || !strings.Contains(errs, "in use") {
		t.Fatalf("second server on the same data: %d %s", code, errs)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit code %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}
