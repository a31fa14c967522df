// hc-app: the cluster-node test's pod. An HTTP server on :8080 that answers every request
// with "hc-app <pod name> <hostname>\n": the pod name from POD_NAME (the downward API),
// the hostname as the runtime set it. Static, standard library only: the image has this
// binary and nothing else.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	pod := os.Getenv("POD_NAME")
	host, err := os.Hostname()
	if err != nil {
		log.Fatalf("hc-app: hostname: %v", err)
	}
	body := fmt.Sprintf("hc-app %s %s\n", pod, host)
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, body)
	})
	// PID 1 in its container: exit at once on SIGTERM instead of waiting for the kill.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		os.Exit(0)
	}()
	log.Printf("hc-app: %q listening on :8080", pod)
	log.Fatal(http.ListenAndServe(":8080", nil))
}
