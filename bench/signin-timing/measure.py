# Alternates 100 unknown-user and 100 wrong-password sign-ins on one keep-alive connection and prints both medians.
# Usage: python3 measure.py PORT [SAMPLES]; run.sh starts the app and calls it.
import http.client, time, statistics, sys, urllib.parse
port=int(sys.argv[1]); n=int(sys.argv[2]) if len(sys.argv)>2 else 100
c=http.client.HTTPConnection('127.0.0.1',port)
def post(u,p):
    body=urllib.parse.urlencode({'grant_type':'password','username':u,'password':p})
    t=time.perf_counter()
    c.request('POST','/token',body,{'Content-Type':'application/x-www-form-urlencoded'})
    r=c.getresponse(); r.read()
    return (time.perf_counter()-t)*1000, r.status
for i in range(20): post('nobody%d'%i,'wrong-password-x'); 
unknown=[];known=[]
users=['m%d'%i for i in range(30)]
for i in range(n):
    a,s1=post('ghost%d'%i,'wrong-password-x'); unknown.append(a)
    b,s2=post(users[i%30],'wrong-password-x'); known.append(b)
    assert s1==400 and s2==400,(s1,s2)
print('unknown median %.2f ms, known-wrong median %.2f ms, diff %.2f ms'%(statistics.median(unknown),statistics.median(known),statistics.median(known)-statistics.median(unknown)))
