Attribute VB_Name = "xlplan"
Option Explicit
' The buttons of the planbok and the region workbook. Each macro runs a handler of
' xlplan.excel in Python:
' - through xlplan serve when the hidden sheet xlwings.conf names XLPLAN_SERVER: xlwings'
'   RunServerPython (module Remote) posts the workbook to {XLPLAN_SERVER}/{handler} with
'   "Authorization: Bearer <nyckel>"; no process is started on this PC;
' - otherwise through xlwings' RunPython (module xlwings): Python and xlplan on this PC,
'   installed from the wheel (.whl) the region's IT hands out (README, "Controller's
'   setup"); xlplan is on no public package index, so never "pip install xlplan" by name
' The status bar says what runs; a missing Python, a missing xlplan or another version
' than the workbook's (XLPLAN_VERSION in xlwings.conf) gives a dialog, not a VBA error.
' A server key the server does not know (401) can be forgotten at once (Windows).

Private checkedToken As String ' the key the server accepted in this Excel session

Sub Validera()
    CallHandler "validera", "xlplan validerar planboken ..."
End Sub

Sub Berakna()
    CallHandler "berakna", "xlplan beräknar sammanfattningen ..."
End Sub

Sub Skicka()
    CallHandler "skicka", "xlplan validerar och skickar planboken ..."
End Sub

Sub Konsolidera()
    CallHandler "konsolidera", "xlplan konsoliderar inkorgen ..."
End Sub

Sub GlomServernyckel()
    ' Forget the server key saved for this user (e.g. after a new key from IT).
    On Error Resume Next
    DeleteSetting "xlplan", "server", "token"
    MsgBox "Nyckeln är borttagen. Du får ange den nya nästa gång du trycker på en knapp.", _
           vbInformation, "xlplan"
End Sub

Private Sub CallHandler(handler As String, status As String)
    Dim server As String, token As String
    On Error GoTo Failed
    Application.StatusBar = status
    server = GetConfig("XLPLAN_SERVER", "")
    If server <> "" Then
        token = ServerToken()
        If token <> "" Then
            If Not KeyRefused(server, token) Then
                Application.Run "RunServerPython", server & "/" & handler, "Bearer " & token
            End If
        End If
    ElseIf PythonReady() Then
        RunPython "import xlplan.excel; xlplan.excel." & handler & "()"
    End If
    Application.StatusBar = False
    Exit Sub
Failed:
    Application.StatusBar = False
    MsgBox "xlplan kunde inte köras: " & Err.Description & vbCrLf & vbCrLf & _
           "Kontrollera att Python och xlplan är installerade (xlplan från den .whl-fil som IT " & _
           "delar ut, se README: Installation) eller, med server, att adressen i bladet " & _
           "xlwings.conf stämmer.", vbExclamation, "xlplan"
End Sub

Private Function KeyRefused(server As String, token As String) As Boolean
    ' Windows: ask the server (GET {XLPLAN_SERVER}/nyckel) whether it knows the key, once per
    ' Excel session, before the workbook is sent: xlwings' RunServerPython only shows the
    ' answer, so a mistyped saved key would otherwise stay. On 401 offer to forget it. Any
    ' other failure here is left to RunServerPython to report. Late bound: no reference.
    #If Mac Then
        KeyRefused = False
    #Else
        Dim http As Object
        If token = checkedToken Then Exit Function
        On Error GoTo Unchecked
        Set http = CreateObject("WinHttp.WinHttpRequest.5.1")
        http.Open "GET", server & "/nyckel", False
        http.SetRequestHeader "Authorization", "Bearer " & token
        http.Send
        If http.Status = 200 Then
            checkedToken = token
        ElseIf http.Status = 401 Then
            KeyRefused = True
            If Environ("XLPLAN_TOKEN") <> "" Then
                MsgBox "xlplan-servern känner inte igen nyckeln i miljövariabeln XLPLAN_TOKEN. " & _
                       "Be IT rätta variabeln eller ge dig en ny nyckel.", vbExclamation, "xlplan"
            ElseIf MsgBox("xlplan-servern känner inte igen din sparade nyckel." & vbCrLf & _
                          "Vill du glömma den? Nästa gång du trycker på en knapp får du ange " & _
                          "nyckeln igen.", vbYesNo + vbExclamation, "xlplan") = vbYes Then
                DeleteSetting "xlplan", "server", "token"
            End If
        End If
Unchecked:
    #End If
End Function

Private Function ServerToken() As String
    ' The key for xlplan serve: the variable XLPLAN_TOKEN, else the key saved for this user
    ' (VBA SaveSetting), else asked for once. It is never stored in the workbook.
    ServerToken = Environ("XLPLAN_TOKEN")
    If ServerToken = "" Then ServerToken = GetSetting("xlplan", "server", "token", "")
    If ServerToken = "" Then
        ServerToken = InputBox("Ange din nyckel till xlplan-servern (du får den av " & _
                               "ekonomienheten). Den sparas för din användare på den här datorn.", _
                               "xlplan")
        If ServerToken <> "" Then SaveSetting "xlplan", "server", "token", ServerToken
    End If
End Function

Private Function PythonReady() As Boolean
    ' Windows: ask the configured interpreter for xlplan's version before RunPython starts it.
    ' On a Mac, RunPython reports a missing interpreter itself.
    #If Mac Then
        PythonReady = True
    #Else
        Dim interpreter As String, wanted As String, found As String, probe As Object
        interpreter = GetConfig("INTERPRETER_WIN", "")
        If interpreter = "" Then interpreter = GetConfig("INTERPRETER", "python")
        wanted = GetConfig("XLPLAN_VERSION", "")
        On Error GoTo NoPython
        Set probe = CreateObject("WScript.Shell").Exec("""" & interpreter & _
            """ -c ""import xlplan; print(xlplan.__version__)""")
        found = Trim(Replace(Replace(probe.StdOut.ReadAll, vbCr, ""), vbLf, ""))
        On Error GoTo 0
        If found = "" Then
            MsgBox "xlplan är inte installerat för Python (" & interpreter & ")." & vbCrLf & _
                   "Installera xlplan " & wanted & " från den .whl-fil som IT delar ut (README: " & _
                   "Installation), i ett kommandofönster: python -m pip install " & _
                   "xlplan-" & wanted & "-py3-none-any.whl", vbExclamation, "xlplan"
        ElseIf wanted <> "" And found <> wanted Then
            MsgBox "Arbetsboken är gjord för xlplan " & wanted & " men datorn har xlplan " & _
                   found & "." & vbCrLf & "Installera rätt version från den .whl-fil som IT " & _
                   "delar ut (README: Installation): python -m pip install " & _
                   "xlplan-" & wanted & "-py3-none-any.whl", vbExclamation, "xlplan"
        Else
            PythonReady = True
        End If
        Exit Function
NoPython:
        MsgBox "Python hittades inte på datorn (" & interpreter & ")." & vbCrLf & _
               "Installera Python från python.org och sedan xlplan från den .whl-fil som IT " & _
               "delar ut (README: Installation).", vbExclamation, "xlplan"
    #End If
End Function
