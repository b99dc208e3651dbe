package podrestart

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/types"
)

func typesUID(s string) types.UID { return types.UID(s) }

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func testutilCount(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }
