// Command otelcol runs the OpenTelemetry Collector's own otlpreceiver (OTLP/HTTP only) on
// 127.0.0.1:PORT, for the otlp sink's TestAgainstCollector and to record the replies in
// ../*.bin. Its logs consumer prints each request's record count and refuses a record whose body
// is "throttle" (Unavailable with a 7 s RetryInfo: 503, Retry-After 7) or "reject" (a permanent
// error: 400). It is a module of its own so herald's go.mod stays free of the Collector:
//
//	cd sinks/otlp/testdata/otelcol && go build -o /tmp/otelcol . && /tmp/otelcol 4318 &
//	HERALD_OTLP_COLLECTOR=http://127.0.0.1:4318 go test -run TestAgainstCollector ./sinks/otlp/
//
// The first build downloads the Collector's modules and takes several minutes on 2 cores.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func main() {
	f := otlpreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*otlpreceiver.Config)
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = "127.0.0.1:" + os.Args[1]
	next, _ := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
		fmt.Println("received", ld.LogRecordCount(), "log records")
		if ld.LogRecordCount() > 0 {
			switch ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str() {
			case "throttle":
				st, _ := status.New(codes.Unavailable, "memory limiter: data refused").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(7 * time.Second)})
				return st.Err()
			case "reject":
				return consumererror.NewPermanent(status.Error(codes.InvalidArgument, "log record refused by the pipeline"))
			}
		}
		return nil
	})
	r, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, next)
	if err != nil {
		panic(err)
	}
	if err := r.Start(context.Background(), componentHost{}); err != nil {
		panic(err)
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	<-ch
	_ = r.Shutdown(context.Background())
}

type componentHost struct{}

func (componentHost) GetExtensions() map[component.ID]component.Component { return nil }
