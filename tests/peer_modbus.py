#!/usr/bin/python3
# An independent Modbus/TCP peer for e2e_ex6, with Debian's pymodbus 3.0
# (python3-pymodbus): the library a student would otherwise use.
#
#   peer_modbus.py server PORT
#       a pymodbus server on 127.0.0.1:PORT; holding register i = 1000 + i,
#       input register i = 2000 + i, discrete input i = i % 2, coils 0; prints
#       "Aguardando" once it accepts connections.
#   peer_modbus.py client PORT OP...
#       one connection, one line per OP:
#         read:A:N  input:A:N  coils:A:N  discrete:A:N   -> "read 9 2 = 4321 1010"
#         write:A:V  writes:A:V,V  coil:A:0|1  wcoils:A:1,0  -> "write 9 = ok"
#       an exception reply prints "... = exception 2".
import logging
import socket
import sys
import threading
import time

logging.disable(logging.CRITICAL)


def serve(port):
    from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                    ModbusSlaveContext)
    from pymodbus.server import StartTcpServer

    def block(values):
        # pymodbus 3.0 adds 1 to the wire address inside: a block starting at 1
        # makes wire address 0 its first value.
        return ModbusSequentialDataBlock(1, values)

    store = ModbusSlaveContext(hr=block([1000 + i for i in range(100)]),
                               ir=block([2000 + i for i in range(100)]),
                               di=block([i % 2 for i in range(100)]),
                               co=block([0] * 100))

    def announce():
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                print("Aguardando", flush=True)
                return
            except OSError:
                time.sleep(0.05)

    threading.Thread(target=announce, daemon=True).start()
    StartTcpServer(context=ModbusServerContext(slaves=store, single=True),
                   address=("127.0.0.1", port))


def client(port, ops):
    from pymodbus.client import ModbusTcpClient
    c = ModbusTcpClient("127.0.0.1", port=port, timeout=3, retries=0)
    if not c.connect():
        print("connect failed", flush=True)
        return 1
    for op in ops:
        kind, address, arg = op.split(":")
        address = int(address)
        if kind in ("read", "input", "coils", "discrete"):
            call = {"read": c.read_holding_registers, "input": c.read_input_registers,
                    "coils": c.read_coils, "discrete": c.read_discrete_inputs}[kind]
            r = call(address, int(arg), slave=1)
            if r.isError():
                print(f"{kind} {address} {arg} = exception {getattr(r, 'exception_code', '?')}")
            elif kind in ("coils", "discrete"):
                print(f"{kind} {address} {arg} = " + " ".join(str(int(b)) for b in r.bits[:int(arg)]))
            else:
                print(f"{kind} {address} {arg} = " + " ".join(str(v) for v in r.registers))
        else:
            if kind == "write":
                r = c.write_register(address, int(arg), slave=1)
            elif kind == "writes":
                r = c.write_registers(address, [int(v) for v in arg.split(",")], slave=1)
            elif kind == "coil":
                r = c.write_coil(address, arg == "1", slave=1)
            else:
                r = c.write_coils(address, [v == "1" for v in arg.split(",")], slave=1)
            if r.isError():
                print(f"{kind} {address} = exception {getattr(r, 'exception_code', '?')}")
            else:
                print(f"{kind} {address} = ok")
        sys.stdout.flush()
    c.close()
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(int(sys.argv[2]))
    else:
        sys.exit(client(int(sys.argv[2]), sys.argv[3:]))
