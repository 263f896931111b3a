package iampolicy

import (
	"strings"
	"testing"
)

const tmpl = `Resources:
  Table:
    Type: AWS::DynamoDB::Table
  ParFunction:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Version: "2012-10-17"
          Statement:
            # a comment
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:Batch*]
              Resource: !GetAtt Table.Arn
              Condition:
                ForAllValues:StringLike:
                  dynamodb:LeadingKeys: ["client#*", "user#?"]
            - Effect: Allow
              Action:
                - secretsmanager:GetSecretValue
              Resource: [!Ref KeysSecret, !Sub "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/x"]
  Other:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
`

var refs = map[string]string{
	"Table.Arn": "arn:aws:dynamodb:us-east-1:1:table/t", "KeysSecret": "arn:aws:secretsmanager:us-east-1:1:secret:keys-AbCdEf",
	"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "1",
}

func TestAllowed(t *testing.T) {
	p, err := Parse(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if len(p["ParFunction"]) != 2 || len(p["Other"]) != 0 {
		t.Fatalf("parsed %+v", p)
	}
	table := "arn:aws:dynamodb:us-east-1:1:table/t"
	for _, c := range []struct {
		req  Request
		want bool
	}{
		{Request{"dynamodb:GetItem", table, []string{"client#a"}}, true},
		{Request{"DynamoDB:getitem", table, []string{"client#a"}}, true}, // actions are case-insensitive
		{Request{"dynamodb:BatchGetItem", table, []string{"client#a", "user#b"}}, true},
		{Request{"dynamodb:BatchGetItem", table, []string{"client#a", "par#b"}}, false}, // ForAllValues: every key
		{Request{"dynamodb:GetItem", table, []string{"user#bc"}}, false},                // ? is one character
		{Request{"dynamodb:PutItem", table, []string{"client#a"}}, false},
		{Request{"dynamodb:GetItem", table + "/index/by-sub", []string{"client#a"}}, false},
		{Request{"dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/other", []string{"client#a"}}, false},
		{Request{"secretsmanager:GetSecretValue", refs["KeysSecret"], nil}, true},
		{Request{"secretsmanager:GetSecretValue", "arn:aws:ssm:us-east-1:1:parameter/x", nil}, true},
		{Request{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:1:secret:cookie-AbCdEf", nil}, false},
		{Request{"secretsmanager:PutSecretValue", refs["KeysSecret"], nil}, false},
	} {
		got, _, err := Allowed(p["ParFunction"], c.req, refs)
		if err != nil || got != c.want {
			t.Errorf("%+v: allowed %v, %v; want %v", c.req, got, err, c.want)
		}
	}
}

func TestRefusesWhatItDoesNotModel(t *testing.T) {
	for _, bad := range []string{
		"            - Effect: Allow\n              NotAction: [dynamodb:GetItem]\n              Resource: \"*\"\n",
		"            - Effect: Allow\n              Action: dynamodb:GetItem\n              Resource: \"*\"\n              Condition:\n                StringEquals:\n                  aws:SourceVpc: vpc-1\n",
	} {
		doc := "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - Version: \"2012-10-17\"\n          Statement:\n" + bad
		p, err := Parse(doc)
		if err != nil {
			continue
		}
		if _, _, err := Allowed(p["F"], Request{"dynamodb:GetItem", "x", nil}, nil); err == nil {
			t.Errorf("accepted:\n%s", bad)
		}
	}
	if _, err := Resolve("!GetAtt Missing.Arn", refs); err == nil || !strings.Contains(err.Error(), "Missing.Arn") {
		t.Errorf("unresolved ref: %v", err)
	}
	if _, err := Resolve("!Join [x]", refs); err == nil {
		t.Error("!Join accepted")
	}
}
