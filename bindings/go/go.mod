module wsproto

go 1.19
