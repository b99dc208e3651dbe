package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"
)

// floorRequests and floorLanes shape -http-floor like the storm: as many requests, over as many
// connections as the webhook's default concurrency.
const (
	floorRequests = 20000
	floorLanes    = 4
)

// measureFloor runs a loopback receiver here and the client in a child process (this binary
// with -http-floor-client), so the child's CPU time is the client's alone.
func measureFloor(rate float64) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(self, "-http-floor-client", ln.Addr().String(), "-http-floor", fmt.Sprint(rate))
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("the -http-floor client: %v", err)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return fmt.Sprintf("bare net/http client, %d POSTs paced at %.0f/s over %d connections to a loopback receiver: %.2f CPU s per 10,000 requests (%.0f µs each), %.1f s",
		floorRequests, rate, floorLanes, cpu.Seconds()*10000/floorRequests, float64(cpu.Microseconds())/floorRequests, time.Since(start).Seconds()), nil
}

// floorPost is the client, shaped like a forwarder: one goroutine takes the requests as they
// come (paced at rate per second, as the watch delivers events) and hands each to one of
// floorLanes goroutines, which post it and read the reply.
func floorPost(addr string, rate float64) {
	body := bytes.Repeat([]byte("x"), 700) // about the size of kube-eventer's default body
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: floorLanes}}
	var wg sync.WaitGroup
	lanes := make([]chan struct{}, floorLanes)
	for l := range lanes {
		lanes[l] = make(chan struct{}, 64)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range lanes[l] {
				req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", bytes.NewReader(body))
				if err != nil {
					panic(err)
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	start := time.Now()
	for i := range floorRequests {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		lanes[i%floorLanes] <- struct{}{}
	}
	for _, l := range lanes {
		close(l)
	}
	wg.Wait()
}
