"""Make the four sample JPEGs of ex3_files/imagens/ (run from the repository root).

They were made for this project: an ImageMagick plasma fractal (fixed seed)
with light noise and the animal's name, saved at the highest JPEG quality that
stays below the size of the guide's original image, then padded to exactly
that size with a JPEG comment segment (FF FE) right after the start marker.
So iguana.jpg is 100,116 bytes, as in the guide: 97 chunks of 1024 bytes and
one of 788, i.e. 98 sends. Needs: apt-get install imagemagick fonts-dejavu-core
"""
import subprocess, os, struct
os.chdir("ex3_files/imagens")
specs = [("cachorro",108295,"800x600","sienna-wheat",11),("gato",237961,"1024x768","gray-orange",22),
         ("iguana",100116,"720x540","green-yellow",33),("tucano",36439,"480x360","black-orange",44)]
for name,target,size,grad,seed in specs:
    best=None
    for q in range(60,99):
        subprocess.run(["convert","-seed",str(seed),"-size",size,"plasma:"+grad,"-attenuate","0.4","+noise","Gaussian",
            "-gravity","south","-fill","white","-stroke","black","-strokewidth","2","-font","DejaVu-Sans-Bold",
            "-pointsize","48","-annotate","+0+24",name,"-strip","-quality",str(q),"/tmp/lab-image.jpg"],check=True)
        n=os.path.getsize("/tmp/lab-image.jpg")
        if n<=target-64: best=(q,n,open("/tmp/lab-image.jpg","rb").read())
        else: break
    q,n,data=best
    # pad with a JPEG comment (COM, FF FE) right after SOI to reach the exact size
    pad=target-n
    text=b"Socket lab in C++: sample image made for this project (ImageMagick plasma fractal). "
    body=(text*((pad//len(text))+1))[:pad-4]
    seg=b"\xff\xfe"+struct.pack(">H",len(body)+2)+body
    out=data[:2]+seg+data[2:]
    assert len(out)==target
    open(name+".jpg","wb").write(out)
    print(name,q,n,len(out),pad)
