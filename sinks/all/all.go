// Package all links every sink type into the binary: cmd/herald imports it and names no sink.
// A new sink package adds its blank import here.
package all

import (
	_ "github.com/heraldproject/herald/sinks/alertmanager"
	_ "github.com/heraldproject/herald/sinks/dingtalk"
	_ "github.com/heraldproject/herald/sinks/discord"
	_ "github.com/heraldproject/herald/sinks/elasticsearch"
	_ "github.com/heraldproject/herald/sinks/feishu"
	_ "github.com/heraldproject/herald/sinks/file"
	_ "github.com/heraldproject/herald/sinks/grafana"
	_ "github.com/heraldproject/herald/sinks/honeycomb"
	_ "github.com/heraldproject/herald/sinks/influxdb"
	_ "github.com/heraldproject/herald/sinks/kafka"
	_ "github.com/heraldproject/herald/sinks/log"
	_ "github.com/heraldproject/herald/sinks/loki"
	_ "github.com/heraldproject/herald/sinks/mysql"
	_ "github.com/heraldproject/herald/sinks/otlp"
	_ "github.com/heraldproject/herald/sinks/slack"
	_ "github.com/heraldproject/herald/sinks/sls"
	_ "github.com/heraldproject/herald/sinks/syslog"
	_ "github.com/heraldproject/herald/sinks/teams"
	_ "github.com/heraldproject/herald/sinks/webhook"
	_ "github.com/heraldproject/herald/sinks/wechat"
)
