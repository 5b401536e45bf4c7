// Exemplo 6 - o processo que o CLP simula: um tanque com uma bomba.
//
// A água sai do tanque sempre (consumo); a bomba, quando ligada, põe mais água do que
// sai. No modo automático o CLP liga a bomba quando o nível chega ao limite baixo e a
// desliga no limite alto, e o nível sobe e desce sozinho; um cliente pode ligar e
// desligar a bomba (bobina 0) ou tirar o CLP do automático (bobina 1). A temperatura
// da água segue devagar a do motor da bomba. O mapa de memória está em README.md.
// Quem chama step(), answer() e publish() trava o mutex do servidor antes.
#pragma once

#include <string>

#include "pdu.h"

struct Plant {
    // O mapa de memória (a tabela do README): cada endereço usado, pelo nome.
    // Holding registers (função 3; 6 e 16 escrevem)
    static constexpr unsigned LEVEL = 0;        // nível, décimos de % (503 = 50,3 %): só leitura
    static constexpr unsigned TEMPERATURE = 1;  // temperatura, décimos de °C: só leitura
    static constexpr unsigned HIGH_LIMIT = 2;   // o automático desliga a bomba aqui (800)
    static constexpr unsigned LOW_LIMIT = 3;    // o automático liga a bomba aqui (200)
    static constexpr unsigned ORDER_EXAMPLE = 4;  // 258 = 0x0102: na rede, 01 02
    // Coils (função 1; 5 e 15 escrevem)
    static constexpr unsigned PUMP = 0;       // 1 = bomba ligada
    static constexpr unsigned AUTOMATIC = 1;  // 1 = o CLP comanda a bomba pelos limites
    // Discrete inputs (função 2)
    static constexpr unsigned LEVEL_HIGH = 0;  // 1 = nível >= limite alto
    static constexpr unsigned LEVEL_LOW = 1;   // 1 = nível <= limite baixo
    // Input registers (função 4)
    static constexpr unsigned LEVEL_INPUT = 0;        // o nível, como no holding register 0
    static constexpr unsigned TEMPERATURE_INPUT = 1;  // a temperatura, como no 1
    static constexpr unsigned UPTIME = 2;             // segundos desde o início

    modbus::Memory memory;
    double level = 500, temperature = 250;  // décimos; o processo anda em frações
    unsigned ticks = 0;                     // ciclos de 100 ms desde o início

    Plant() {
        memory.holding_read_only[LEVEL] = memory.holding_read_only[TEMPERATURE] = true;
        memory.holding[HIGH_LIMIT] = 800;
        memory.holding[LOW_LIMIT] = 200;
        memory.holding[ORDER_EXAMPLE] = 0x0102;
        memory.coils[AUTOMATIC] = 1;
        publish();
    }

    // Um ciclo de 100 ms do processo.
    void step() {
        ++ticks;
        modbus::Memory& m = memory;
        if (m.coils[AUTOMATIC]) {  // histerese: entre os limites, a bomba fica como está
            if (level >= m.holding[HIGH_LIMIT]) m.coils[PUMP] = 0;
            if (level <= m.holding[LOW_LIMIT]) m.coils[PUMP] = 1;
        }
        level += m.coils[PUMP] ? 4 : -2;  // +0,4 % ou -0,2 % por ciclo
        if (level < 0) level = 0;
        if (level > 1000) level = 1000;
        const double motor = m.coils[PUMP] ? 350 : 200;  // 35 °C ligada, 20 °C parada
        temperature += (motor - temperature) / 100;
        publish();
    }

    // A resposta (PDU) a um pedido (PDU) de um cliente, e o estado publicado de novo:
    // uma escrita nos limites já muda as entradas discretas.
    // Erro comum: Aceitar um valor que o processo não admite. O padrão confere só o
    // formato do pedido; o que um valor significa, só o CLP sabe. Um limite alto abaixo
    // do baixo desfaria a histerese do automático (a bomba ligaria e desligaria a cada
    // poucos ciclos): o CLP recusa com a exceção 03 (valor de dados ilegal), e nada é
    // escrito.
    std::string answer(const std::string& request) {
        const modbus::Memory before = memory;
        std::string reply = modbus::answer(request, memory);
        if (memory.holding[HIGH_LIMIT] < memory.holding[LOW_LIMIT]) {
            memory = before;
            reply = modbus::exception_reply(static_cast<std::uint8_t>(request[0]), modbus::ILLEGAL_DATA_VALUE);
        }
        publish();
        return reply;
    }

    // Copia o estado do processo para as tabelas que os clientes leem.
    void publish() {
        modbus::Memory& m = memory;
        m.holding[LEVEL] = m.input[LEVEL_INPUT] = static_cast<std::uint16_t>(level + 0.5);
        m.holding[TEMPERATURE] = m.input[TEMPERATURE_INPUT] = static_cast<std::uint16_t>(temperature + 0.5);
        m.input[UPTIME] = static_cast<std::uint16_t>(ticks / 10);
        m.discrete_inputs[LEVEL_HIGH] = level >= m.holding[HIGH_LIMIT];
        m.discrete_inputs[LEVEL_LOW] = level <= m.holding[LOW_LIMIT];
    }
};
