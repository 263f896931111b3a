package dynamotest

import (
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestMain(m *testing.M) { Main(m) }

func TestEndpoint_IsSharedByTheWholeTestBinary(t *testing.T) {
	first, second := Endpoint(t), Endpoint(t)
	if first != second {
		t.Errorf("Endpoint returned %s, then %s", first, second)
	}
	client := Client(t, first)
	table := NewTable(t, client)
	out, err := client.ListTables(t.Context(), &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	found := false
	for _, name := range out.TableNames {
		found = found || name == table
	}
	if !found {
		t.Errorf("table %s not among %v", table, out.TableNames)
	}
}

func TestTableName_IsValidAndUnique(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	for _, name := range []string{"TestX", "TestStore/Sub test#1 (ä)", strings.Repeat("TestLong/", 60)} {
		a, b := tableName(name), tableName(name)
		if !valid.MatchString(a) {
			t.Errorf("tableName(%q) = %q, not a valid table name", name, a)
		}
		if a == b {
			t.Errorf("tableName(%q) returned %q twice", name, a)
		}
	}
}
