package palisade.docker

deny contains f if {
	resp := http.send({"method": "GET", "url": "https://example.com/"})
	f := {"id": "NET001", "message": resp.body}
}
