-- Exemplo 5: um dissector do Wireshark para os datagramas deste exemplo.
--
-- Mostra o cabeçalho do modo confiável (tipo, janela, número de sequência,
-- ACK), o texto de GET/SIZE/OK/ERROR e marca os reenvios. Sem ele o
-- Wireshark mostra só "UDP, Len=1032" e os bytes.
--
-- Uso:
--   tshark -X lua_script:ex5_udp/ex5.lua -r captures/ex5-confiavel-perda.pcapng
--   tshark -X lua_script:ex5_udp/ex5.lua -r captures/ex5-confiavel-perda.pcapng -Y ex5.reenvio \
--          -T fields -e frame.number -e ex5.tipo -e ex5.relativo
--   (os reenvios: quadro, tipo e número relativo. O modo simples, de
--   captures/ex5.pcapng, não tem cabeçalho: lá só -e ex5.modo -e ex5.texto
--   mostram algo.)
-- No Wireshark: copie este arquivo para a pasta de plugins pessoais (Ajuda ->
-- Sobre o Wireshark -> Pastas -> "Plugins Lua pessoais", por exemplo
-- ~/.local/lib/wireshark/plugins/) e reabra. Ele decodifica a porta UDP 8000
-- (a do guia; outra: Editar -> Preferências -> Protocols -> EX5 -> Porta UDP,
-- ou no tshark -o ex5.porta:9000); para uma transferência isolada em outra
-- porta: Analisar -> Decodificar como... -> UDP, porta, EX5.
-- Em qualquer outra porta, só uma conversa que começa com um pedido do modo
-- confiável (os bytes e5 47: a marca e o 'G' do GET) é do Exemplo 5: o
-- pedido marca a conversa (os dois endereços e portas), e o resto dela (SIZE,
-- dados, ACKs, OK) vem junto. Nenhum outro datagrama UDP é tomado por EX5.
--
-- Reenvio: um número (seq) que já passou antes, no mesmo sentido da mesma
-- conversa. Numa captura do lado de quem envia, é exatamente um reenvio. Do
-- lado de quem recebe, um datagrama atrasado (chegou depois de outros, fora
-- de ordem) não é marcado, porque o número dele ainda não tinha passado; e um
-- reenvio cujo original se perdeu antes do ponto de captura também não (para
-- essa captura, é a primeira vez que o número passa).
--
-- Filtros: ex5.seq == 7, ex5.ack, ex5.tipo == "DADOS", ex5.reenvio,
-- ex5.relativo == 7 (o número contado do SIZE, que o servidor sorteia, como o
-- "relative sequence number" do TCP no Wireshark), ex5.sem_controle.

local ex5 = Proto("ex5", "Exemplo 5: arquivos por UDP")

local f_modo = ProtoField.string("ex5.modo", "Modo")
local f_tipo = ProtoField.string("ex5.tipo", "Tipo")
local f_janela = ProtoField.uint16("ex5.janela", "Janela (datagramas sem confirmação)", base.DEC, nil, 0x7fff)
local f_sem_controle = ProtoField.bool("ex5.sem_controle", "Janela fixa, sem controle de congestionamento (--sem-controle)", 16, nil, 0x8000)
local f_relativo = ProtoField.uint32("ex5.relativo", "Número relativo (contado do SIZE: 0 o SIZE, 1 o primeiro dado)")
local f_enchimento = ProtoField.uint32("ex5.enchimento", "Enchimento: zeros até 1200 bytes (o pedido do modo confiável)")
local f_seq = ProtoField.uint32("ex5.seq", "Número de sequência")
local f_ack = ProtoField.uint32("ex5.ack", "ACK: próximo número esperado")
local f_texto = ProtoField.string("ex5.texto", "Texto")
local f_dados = ProtoField.uint32("ex5.dados", "Bytes do arquivo")
local f_reenvio = ProtoField.bool("ex5.reenvio", "Reenvio (este número já passou antes, neste sentido)")
ex5.fields = { f_modo, f_tipo, f_janela, f_sem_controle, f_seq, f_ack, f_relativo, f_texto, f_dados,
               f_enchimento, f_reenvio }

local TIPOS = { G = "GET", S = "SIZE", D = "DADOS", A = "ACK", O = "OK", E = "ERROR" }

-- A porta do guia; outra pela preferência ex5.porta.
ex5.prefs.porta = Pref.uint("Porta UDP", 8000, "A porta UDP decodificada como Exemplo 5 (a do servidor)")

-- Reenvios: os números já vistos em cada sentido de cada conversa, e o
-- resultado de cada quadro (calculado na primeira passada, na ordem da captura).
local vistos = {}
local reenvio = {}
-- Números relativos: o número do SIZE de cada conversa (os dois sentidos), e o
-- número relativo de cada quadro (calculado na primeira passada).
local primeiro = {}
local relativo = {}

local function conversa(pinfo)
    local a = tostring(pinfo.src) .. ":" .. pinfo.src_port
    local b = tostring(pinfo.dst) .. ":" .. pinfo.dst_port
    if a < b then return a .. "-" .. b else return b .. "-" .. a end
end

local function is_text(tvb)
    local n = tvb:len()
    if n < 2 then return false end
    local s = tvb:raw(0, math.min(n, 6))
    return s:sub(1, 3) == "GET" or s:sub(1, 5) == "SIZE " or s:sub(1, 3) == "OK " or s:sub(1, 6) == "ERROR "
end

local function header_ok(tvb)
    return tvb:len() >= 8 and tvb(0, 1):uint() == 0xE5 and TIPOS[tvb:raw(1, 1)] ~= nil
end

function ex5.dissector(tvb, pinfo, tree)
    local n = tvb:len()
    if n == 0 then return 0 end
    pinfo.cols.protocol = "EX5"
    local t = tree:add(ex5, tvb(), "Exemplo 5: arquivos por UDP")
    if not header_ok(tvb) then
        -- Modo simples: só o conteúdo, como no Exemplo 3.
        t:add(f_modo, "simples (sem cabeçalho)")
        if is_text(tvb) then
            local s = tvb:raw(0, math.min(n, 120))
            t:add(f_texto, tvb(0, math.min(n, 120)), s)
            pinfo.cols.info = s
        else
            t:add(f_dados, tvb(), n)
            pinfo.cols.info = "dados, " .. n .. " bytes (modo simples: sem número)"
        end
        return n
    end
    t:add(f_modo, "confiável (cabeçalho de 8 bytes)")
    local letra = tvb:raw(1, 1)
    local tipo = TIPOS[letra]
    local janela = tvb(2, 2):uint()   -- :uint() lê em ordem de rede (big-endian)
    local numero = tvb(4, 4):uint()
    t:add(f_tipo, tvb(1, 1), tipo)
    t:add(f_janela, tvb(2, 2))
    if letra == "G" then t:add(f_sem_controle, tvb(2, 2)) end
    if not pinfo.visited and letra ~= "G" and letra ~= "E" then
        local c = conversa(pinfo)
        if letra == "S" then primeiro[c] = numero end
        if primeiro[c] ~= nil then relativo[pinfo.number] = (numero - primeiro[c]) % 4294967296 end
    end
    local rel = relativo[pinfo.number]
    local info
    if letra == "A" then
        t:add(f_ack, tvb(4, 4))
        info = "ACK ack=" .. numero
        if rel ~= nil then
            t:add(f_relativo, tvb(4, 4), rel)
            info = info .. " (rel " .. rel .. ")"
        end
    else
        t:add(f_seq, tvb(4, 4))
        info = tipo .. " seq=" .. numero
        if rel ~= nil then
            t:add(f_relativo, tvb(4, 4), rel)
            info = info .. " (rel " .. rel .. ")"
        end
        if letra == "G" then
            info = info .. " janela=" .. (janela % 32768)
            if janela >= 32768 then info = info .. " fixa" end
        end
        if letra ~= "G" and letra ~= "E" then
            local key = tostring(pinfo.src) .. ":" .. pinfo.src_port .. ">" .. tostring(pinfo.dst) .. ":" .. pinfo.dst_port
            if not pinfo.visited then
                -- Só o mesmo número no mesmo sentido: um número menor que o
                -- maior já visto pode ser só um datagrama atrasado, ou um
                -- novo depois da volta de 2^32 (o SIZE leva um número
                -- sorteado: 4294967295, depois 0, 1, ...).
                if vistos[key] == nil then vistos[key] = {} end
                reenvio[pinfo.number] = vistos[key][numero] == true
                vistos[key][numero] = true
            end
            if reenvio[pinfo.number] then
                t:add(f_reenvio, true)
                info = info .. " [reenvio]"
            end
        end
    end
    if n > 8 then
        if letra == "D" then
            t:add(f_dados, tvb(8), n - 8)
            info = info .. " (" .. (n - 8) .. " bytes)"
        else
            local s = tvb:raw(8, math.min(n - 8, 120))
            local zero = s:find("\0", 1, true)  -- o pedido termina no primeiro zero
            if zero ~= nil then s = s:sub(1, zero - 1) end
            t:add(f_texto, tvb(8, #s), s)
            info = info .. ": " .. s
            if letra == "G" and n > 8 + #s then t:add(f_enchimento, tvb(8 + #s), n - 8 - #s) end
        end
    end
    pinfo.cols.info = info
    return n
end

-- Uma captura nova começa do zero.
function ex5.init()
    vistos = {}
    reenvio = {}
    primeiro = {}
    relativo = {}
end

local udp = DissectorTable.get("udp.port")
local porta = ex5.prefs.porta
udp:add(porta, ex5)
udp:add_for_decode_as(ex5)

function ex5.prefs_changed()
    if ex5.prefs.porta ~= porta then
        udp:remove(porta, ex5)
        porta = ex5.prefs.porta
        udp:add(porta, ex5)
    end
end

-- Em qualquer outra porta: só um pedido do modo confiável (e5 47, a marca e o
-- 'G'), que entrega ao dissector o resto da conversa. Um datagrama que só
-- começasse com 0xE5 e uma letra válida no meio de outro tráfego UDP não
-- basta.
local function heuristic(tvb, pinfo, tree)
    if tvb:len() < 8 or tvb(0, 1):uint() ~= 0xE5 or tvb:raw(1, 1) ~= "G" then return false end
    pinfo.conversation = ex5
    ex5.dissector(tvb, pinfo, tree)
    return true
end
ex5:register_heuristic("udp", heuristic)
