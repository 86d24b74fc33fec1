package main

import (
	"context"

	"vigil/internal/alarm/alarmcli"
)

// runAlarm is "vigil alarm": DC-09 decode, send, bench and listen.
func runAlarm(ctx context.Context, args []string, s stdio) int {
	return alarmcli.Run(ctx, args, s.in, s.out, s.err)
}
