package alerts

import _ "github.com/slack-go/slack"
