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
		{Request{Action: "dynamodb:GetItem", Resource: table, LeadingKeys: []string{"client#a"}}, true},
		{Request{Action: "DynamoDB:getitem", Resource: table, LeadingKeys: []string{"client#a"}}, true}, // actions are case-insensitive
		{Request{Action: "dynamodb:BatchGetItem", Resource: table, LeadingKeys: []string{"client#a", "user#b"}}, true},
		{Request{Action: "dynamodb:BatchGetItem", Resource: table, LeadingKeys: []string{"client#a", "par#b"}}, false}, // ForAllValues: every key
		{Request{Action: "dynamodb:GetItem", Resource: table, LeadingKeys: []string{"user#bc"}}, false},                // ? is one character
		{Request{Action: "dynamodb:PutItem", Resource: table, LeadingKeys: []string{"client#a"}}, false},
		{Request{Action: "dynamodb:GetItem", Resource: table + "/index/by-sub", LeadingKeys: []string{"client#a"}}, false},
		{Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:1:table/other", LeadingKeys: []string{"client#a"}}, false},
		{Request{Action: "secretsmanager:GetSecretValue", Resource: refs["KeysSecret"], LeadingKeys: nil}, true},
		{Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:ssm:us-east-1:1:parameter/x", LeadingKeys: nil}, true},
		{Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:1:secret:cookie-AbCdEf", LeadingKeys: nil}, false},
		{Request{Action: "secretsmanager:PutSecretValue", Resource: refs["KeysSecret"], LeadingKeys: nil}, false},
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
		if _, _, err := Allowed(p["F"], Request{Action: "dynamodb:GetItem", Resource: "x", LeadingKeys: nil}, nil); err == nil {
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

const kmsTmpl = `Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: Admin
            Effect: Allow
            Principal:
              AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
            Action: [kms:Describe*]
            Resource: "*"
          - Sid: Untagged
            Effect: Allow
            Principal:
              AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
            Action: [kms:Decrypt]
            Resource: "*"
            Condition:
              StringEquals:
                kms:ViaService:
                  - !Sub "secretsmanager.${AWS::Region}.amazonaws.com"
              "Null":
                aws:PrincipalTag/f: "true"
          - Sid: Service
            Effect: Allow
            Principal:
              Service: dynamodb.amazonaws.com
            Action: kms:List*
            Resource: "*"
  F:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Version: "2012-10-17"
          Statement:
            - !If
              - UseKey
              - Effect: Allow
                Action: [kms:Decrypt]
                Resource: !GetAtt Key.Arn
                Condition:
                  StringEquals:
                    kms:EncryptionContext:SecretARN: [!Ref KeysSecret]
              - !Ref AWS::NoValue
`

// TestAllowed_ConditionalStatementsAndKeyPolicies: a `!If [C, statement,
// !Ref AWS::NoValue]` statement exists only with the condition; StringEquals compares
// the request's context (a missing key fails), Null tests its absence; a key
// policy's Principal must name who asks.
func TestAllowed_ConditionalStatementsAndKeyPolicies(t *testing.T) {
	p, err := Parse(kmsTmpl)
	if err != nil {
		t.Fatal(err)
	}
	if len(p["F"]) != 1 || p["F"][0].If != "UseKey" {
		t.Fatalf("parsed %+v", p["F"])
	}
	key := "arn:aws:kms:us-east-1:1:key/k"
	r := map[string]string{"Key.Arn": key, "KeysSecret": refs["KeysSecret"], "AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "1"}
	decrypt := func(secret string) Request {
		return Request{Action: "kms:Decrypt", Resource: key, Context: map[string]string{"kms:EncryptionContext:SecretARN": secret}}
	}
	for _, c := range []struct {
		on   bool
		req  Request
		want bool
	}{
		{false, decrypt(refs["KeysSecret"]), false}, // the condition off: no statement
		{true, decrypt(refs["KeysSecret"]), true},
		{true, decrypt("arn:aws:secretsmanager:us-east-1:1:secret:other-AbCdEf"), false},
		{true, Request{Action: "kms:Decrypt", Resource: key}, false}, // no encryption context
	} {
		rr := map[string]string{"Condition:UseKey": "false"}
		if c.on {
			rr["Condition:UseKey"] = "true"
		}
		for k, v := range r {
			rr[k] = v
		}
		got, _, err := Allowed(p["F"], c.req, rr)
		if err != nil || got != c.want {
			t.Errorf("UseKey=%v %+v: allowed %v, %v; want %v", c.on, c.req, got, err, c.want)
		}
	}

	kp, err := ParseKeyPolicy(kmsTmpl, "Key")
	if err != nil {
		t.Fatal(err)
	}
	if len(kp) != 3 || kp[0].Sid != "Admin" || kp[2].Principal["Service"][0] != "dynamodb.amazonaws.com" {
		t.Fatalf("key policy %+v", kp)
	}
	root := "arn:aws:iam::1:root"
	via := map[string]string{"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
	tagged := map[string]string{"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com", "aws:PrincipalTag/f": "x"}
	for _, c := range []struct {
		req  Request
		want bool
	}{
		{Request{Action: "kms:DescribeKey", Resource: key, Principal: root}, true},
		{Request{Action: "kms:DescribeKey", Resource: key, Principal: "arn:aws:iam::2:root"}, false},
		{Request{Action: "kms:Decrypt", Resource: key, Principal: root, Context: via}, true},
		{Request{Action: "kms:Decrypt", Resource: key, Principal: root}, false},                  // not through the service
		{Request{Action: "kms:Decrypt", Resource: key, Principal: root, Context: tagged}, false}, // Null: the tag present
		{Request{Action: "kms:ListGrants", Resource: key, Principal: "dynamodb.amazonaws.com"}, true},
		{Request{Action: "kms:Decrypt", Resource: key, Principal: "dynamodb.amazonaws.com", Context: via}, false},
	} {
		got, _, err := Allowed(kp, c.req, r)
		if err != nil || got != c.want {
			t.Errorf("key policy %+v: allowed %v, %v; want %v", c.req, got, err, c.want)
		}
	}
	if _, err := ParseKeyPolicy(kmsTmpl, "F"); err == nil {
		t.Error("read a key policy of a function")
	}
}

// TestRefusesMalformedConditionalStatements: an !If statement is read only as
// [Condition, statement, !Ref AWS::NoValue].
func TestRefusesMalformedConditionalStatements(t *testing.T) {
	for _, bad := range []string{
		// another else branch
		"            - !If\n              - C\n              - Effect: Allow\n                Action: kms:Decrypt\n                Resource: \"*\"\n              - Effect: Allow\n                Action: kms:Encrypt\n                Resource: \"*\"\n",
		// no condition name
		"            - !If\n              - Effect: Allow\n                Action: kms:Decrypt\n                Resource: \"*\"\n              - !Ref AWS::NoValue\n",
	} {
		doc := "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - Version: \"2012-10-17\"\n          Statement:\n" + bad
		if p, err := Parse(doc); err == nil {
			t.Errorf("accepted:\n%s\nas %+v", bad, p["F"])
		}
	}
}
