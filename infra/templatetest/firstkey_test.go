package templatetest

import (
	"strings"
	"testing"
)

// TestFirstSigningKey_IsCreatedBeforeTheStackSucceeds: the first key set is written by
// a custom resource the rotation function answers (synchronously: the stack fails when
// it cannot), and the schedule does not also rotate on creation - which would be
// asynchronous, and refused so soon after the first set.
func TestFirstSigningKey_IsCreatedBeforeTheStackSucceeds(t *testing.T) {
	res := resources(t)
	fk := res["FirstSigningKey"]
	if fk == nil {
		t.Fatal("template.yaml has no FirstSigningKey resource")
	}
	if !strings.HasPrefix(fk.typ, "Custom::") && fk.typ != "AWS::CloudFormation::CustomResource" {
		t.Errorf("FirstSigningKey is a %s, want a custom resource", fk.typ)
	}
	if v, _ := fk.value("ServiceToken"); v != "!GetAtt KeyRotationFunction.Arn" {
		t.Errorf("FirstSigningKey ServiceToken = %q, want the rotation function", v)
	}
	if v, _ := fk.value("SecretId"); v != "!Ref KeysSecret" {
		t.Errorf("FirstSigningKey SecretId = %q, want !Ref KeysSecret", v)
	}
	sched := res["KeysRotationSchedule"]
	if sched == nil {
		t.Fatal("template.yaml has no KeysRotationSchedule")
	}
	if v, _ := sched.value("RotateImmediatelyOnUpdate"); v != "false" {
		t.Errorf("KeysRotationSchedule RotateImmediatelyOnUpdate = %q, want false", v)
	}
	if v, _ := sched.value("DependsOn"); !strings.Contains(v, "FirstSigningKey") {
		t.Errorf("KeysRotationSchedule DependsOn = %q, want FirstSigningKey", v)
	}
}

// TestKeyRotationAlarm_AlwaysNotifies: the rotation alarm has an action whether or
// not AlarmTopicArn is set (the stack's own AlarmTopic otherwise).
func TestKeyRotationAlarm_AlwaysNotifies(t *testing.T) {
	res := resources(t)
	alarm := res["KeyRotationFunctionErrorsAlarm"]
	if alarm == nil {
		t.Fatal("template.yaml has no KeyRotationFunctionErrorsAlarm")
	}
	for _, key := range []string{"AlarmActions", "OKActions"} {
		v, _ := alarm.value(key)
		if strings.Contains(v, "AWS::NoValue") || !strings.Contains(v, "!Ref AlarmTopicArn") || !strings.Contains(v, "!Ref AlarmTopic]") {
			t.Errorf("KeyRotationFunctionErrorsAlarm %s = %q, want AlarmTopicArn or else AlarmTopic", key, v)
		}
	}
	topic := res["AlarmTopic"]
	if topic == nil || topic.typ != "AWS::SNS::Topic" {
		t.Fatal("template.yaml has no AlarmTopic (AWS::SNS::Topic)")
	}
	if v, _ := topic.value("Condition"); v != "CreateAlarmTopic" {
		t.Errorf("AlarmTopic Condition = %q, want CreateAlarmTopic (AlarmTopicArn empty)", v)
	}
}

// TestFirstSigningKey_PublishesThePublicKeySet: a new stack's discovery serves the
// first key, and an existing stack's first deployment with PublicKeysSecret fills it
// before discovery reads it: FirstSigningKey names the public secret (a new property,
// so CloudFormation sends the existing resource an Update, which publishes), its
// function is given it, and discovery is updated only after it; the key secret's tag
// tells keys revoke where to publish.
func TestFirstSigningKey_PublishesThePublicKeySet(t *testing.T) {
	res := resources(t)
	if v, _ := res["FirstSigningKey"].value("PublicKeysSecretId"); v != "!Ref PublicKeysSecret" {
		t.Errorf("FirstSigningKey PublicKeysSecretId = %q, want !Ref PublicKeysSecret", v)
	}
	if v, _ := res["KeyRotationFunction"].value("PUBLIC_KEYS_SECRET_ID"); v != "!Ref PublicKeysSecret" {
		t.Errorf("KeyRotationFunction PUBLIC_KEYS_SECRET_ID = %q, want !Ref PublicKeysSecret", v)
	}
	if v, _ := res["DiscoveryFunction"].value("DependsOn"); !strings.Contains(v, "FirstSigningKey") {
		t.Errorf("DiscoveryFunction DependsOn = %q, want FirstSigningKey", v)
	}
	body := strings.Join(res["KeysSecret"].body, "\n")
	if !strings.Contains(body, "- Key: pargate:public-keys-secret\n          Value: !Ref PublicKeysSecret") {
		t.Errorf("KeysSecret has no pargate:public-keys-secret tag naming PublicKeysSecret:\n%s", body)
	}
}
