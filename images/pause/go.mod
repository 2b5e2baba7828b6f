module skein.local/pause

go 1.24
