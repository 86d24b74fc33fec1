package alarm_test

import (
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"vigil/internal/alarm"
	"vigil/internal/auth"
	"vigil/internal/store/storetest"
)

// mqttBroker is the broker CI runs (Mosquitto); without one the test is
// skipped, except under CI=true, where a missing broker is a failure.
func mqttBroker(t *testing.T) string {
	addr := os.Getenv("VIGIL_TEST_MQTT")
	if addr == "" {
		addr = "127.0.0.1:1883"
	}
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no MQTT broker at %s: %v", addr, err)
		}
		t.Skipf("no MQTT broker at %s", addr)
	}
	c.Close()
	return "tcp://" + addr
}

// TestMQTTIngest: a sensor publishes over a real broker; the message
// becomes an alarm of the mapped zone and type, and "OFF" restores it.
func TestMQTTIngest(t *testing.T) {
	broker := mqttBroker(t)
	e := startEnv(t, storetest.SQLite(t))
	admin := e.login(auth.Admin)
	topic := fmt.Sprintf("vigiltest/%d/sensors/door1", time.Now().UnixNano())
	var src alarm.Source
	if st, b := admin.do("POST", "/api/v1/alarm-sources", map[string]any{"site_id": e.site.ID, "kind": "mqtt", "name": "Door sensors",
		"broker_url": broker, "topic": topic[:len(topic)-len("/door1")] + "/#",
		"device_map": map[string]any{"door1": map[string]any{"zone": "5", "type": "burglary", "name": "Front door"}}}, &src); st != 201 {
		t.Fatalf("create source: %d %s", st, b)
	}
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID(fmt.Sprintf("vigiltest-pub-%d", time.Now().UnixNano())))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer pub.Disconnect(100)
	disp := e.login(auth.Dispatcher)
	wait := func(what string, ok func([]*alarm.Alarm) bool, payload string) []*alarm.Alarm {
		deadline := time.Now().Add(15 * time.Second)
		for {
			// Publish until seen: the server's subscription may still be
			// starting (QoS 1 with a fresh session only gets later messages).
			pub.Publish(topic, 1, false, payload).WaitTimeout(5 * time.Second)
			var list struct{ Items []*alarm.Alarm }
			disp.do("GET", "/api/v1/alarms", nil, &list)
			if ok(list.Items) {
				return list.Items
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not seen in 15 s: %+v", what, list.Items)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	as := wait("alarm", func(as []*alarm.Alarm) bool { return len(as) == 1 }, "1")
	if a := as[0]; a.Type != alarm.TypeBurglary || a.Zone != "5" || a.ZoneName != "Front door" || a.SiteName != "Bank Branch 7" {
		t.Fatalf("mqtt alarm: %+v", a)
	}
	wait("restore", func(as []*alarm.Alarm) bool { return len(as) == 1 && as[0].RestoredAt != nil }, "OFF")
}
