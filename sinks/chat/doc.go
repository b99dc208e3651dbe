// Package chat is what every chat-robot sink (wechat, dingtalk, feishu, slack, discord, teams)
// shares, so each sink only formats its payload: a per-robot token bucket (Pacer), the merge of
// a batch into one digest message that fits the service's size limit (Summarize, FitDigest,
// FitSingle), the fields every default layout shows (Fields), the template override, and the
// Export policy that turns a batch into messages.
package chat
