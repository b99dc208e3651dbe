package dingtalk

import (
	"fmt"

	"github.com/heraldproject/herald/sinks/chat"
)

// ackConsole is the Alibaba Cloud Container Service console that kube-eventer's markdown
// messages link to.
const ackConsole = "https://cs.console.aliyun.com/#/k8s"

// consoleLink returns kube-eventer's ACK console link for an event's object, or "" for kinds
// it did not link.
func consoleLink(clusterID, region string) func(f chat.Fields) string {
	return func(f chat.Fields) string {
		switch f.Kind {
		case "Deployment", "StatefulSet", "DaemonSet":
			return fmt.Sprintf("%s/%s/detail/%s/%s/%s/%s/pods", ackConsole, lower(f.Kind), region, clusterID, f.Namespace, f.Name)
		case "Pod":
			return fmt.Sprintf("%s/pod/%s/%s/%s/container", ackConsole, clusterID, f.Namespace, f.Name)
		case "CronJob":
			return fmt.Sprintf("%s/cronjob/detail/%s/%s/%s/%s/jobs", ackConsole, region, clusterID, f.Namespace, f.Name)
		case "Service":
			return fmt.Sprintf("%s/service/detail/%s/%s/%s/%s", ackConsole, region, clusterID, f.Namespace, f.Name)
		}
		return ""
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
